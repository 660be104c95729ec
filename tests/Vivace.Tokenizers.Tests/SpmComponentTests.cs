using Vivace.Tokenizers.Decoders;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.Normalizers;
using Vivace.Tokenizers.PreTokenizers;

namespace Vivace.Tokenizers.Tests;

/// <summary>Unigram, WordLevel, Metaspace, Whitespace, Punctuation, Digits, CharDelimiterSplit, Unicode forms,
/// Strip, Precompiled, CTC and Sequence decoders on their own.</summary>
public class SpmComponentTests
{
    private static string[] Split(IPreTokenizer p, string text)
    {
        var ns = new NormalizedString();
        ns.Reset(text, 0, text.Length);
        var pieces = new List<Piece> { new(0, text.Length) };
        if (p is IRewritingPreTokenizer r) r.Rewrite(ns, pieces);
        else
        {
            var output = new List<Piece>();
            p.Split(ns.Normalized, pieces[0], output);
            pieces = output;
        }
        var s = ns.Normalized.ToString();
        return pieces.Select(x => s[x.Start..x.End]).ToArray();
    }

    private static string Normalize(INormalizer n, string text)
    {
        var ns = new NormalizedString();
        ns.Reset(text, 0, text.Length);
        n.Normalize(ns);
        return ns.Normalized.ToString();
    }

    [Fact]
    public void Metaspace_prepend_schemes_and_split()
    {
        Assert.Equal(["▁Hello", "▁", "▁world"], Split(new MetaspacePreTokenizer("▁", PrependScheme.Always, true), "Hello  world"));
        Assert.Equal(["▁Hello▁▁world"], Split(new MetaspacePreTokenizer("▁", PrependScheme.Always, false), "Hello  world"));
        Assert.Equal(["Hello", "▁world"], Split(new MetaspacePreTokenizer("▁", PrependScheme.Never, true), "Hello world"));
        Assert.Equal(["▁hi"], Split(new MetaspacePreTokenizer("▁", PrependScheme.Always, true), " hi")); // starts with a space: no prefix
        Assert.Equal(["hi", "▁"], Split(new MetaspacePreTokenizer("▁", PrependScheme.Never, true), "hi "));

        // First: only the piece at the start of the input gets the prefix.
        var first = new MetaspacePreTokenizer("▁", PrependScheme.First, true);
        var seq = new RewritingSequencePreTokenizer([new WhitespaceSplitPreTokenizer(), first]);
        Assert.Equal(["▁a", "b"], Split(seq, "a b"));
        var always = new RewritingSequencePreTokenizer([new WhitespaceSplitPreTokenizer(), new MetaspacePreTokenizer("▁", PrependScheme.Always, true)]);
        Assert.Equal(["▁a", "▁b"], Split(always, "a b"));
    }

    [Fact]
    public void Metaspace_offsets_point_into_the_original()
    {
        var tok = Tokenizer.FromJson("""
            {"version":"1.0","pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},
             "model":{"type":"WordLevel","unk_token":"<unk>","vocab":{"<unk>":0,"▁Hello":1,"▁world":2}}}
            """);
        var e = tok.Encode("Hello world");
        Assert.Equal([1, 2], e.Ids);
        Assert.Equal([(0, 5), (5, 11)], e.Offsets);
    }

    [Fact]
    public void Metaspace_json_rules()
    {
        static Tokenizer Load(string pre) => Tokenizer.FromJson("""{"version":"1.0","model":{"type":"WordLevel","vocab":{"<unk>":0},"unk_token":"<unk>"},"pre_tokenizer":""" + pre + "}");
        Assert.Throws<InvalidDataException>(() => Load("""{"type":"Metaspace","replacement":"▁","add_prefix_space":false}"""));
        Load("""{"type":"Metaspace","replacement":"▁","add_prefix_space":false,"prepend_scheme":"never"}""");
        Load("""{"type":"Metaspace","replacement":"▁","add_prefix_space":true,"str_rep":"▁"}""");
        Assert.Throws<UnsupportedComponentException>(() => Load("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"sometimes"}"""));
    }

    [Fact]
    public void Whitespace_punctuation_digits_char_delimiter()
    {
        Assert.Equal(["Hey", "friend", "!", "How", "are", "you", "?!?"], Split(new WhitespacePreTokenizer(), "Hey friend!     How are you?!?"));
        Assert.Equal(["café", "ß_1", "—", "x"], Split(new WhitespacePreTokenizer(), "café ß_1—x"));
        Assert.Equal(["Hey", "!", " you", "?", "?"], Split(new PunctuationPreTokenizer(), "Hey! you??"));
        Assert.Equal(["Hey!", " you?", "?"], Split(new PunctuationPreTokenizer(DelimiterBehavior.MergedWithPrevious), "Hey! you??"));
        Assert.Equal(["Hey", "!", " you", "??"], Split(new PunctuationPreTokenizer(DelimiterBehavior.Contiguous), "Hey! you??"));
        Assert.Equal(["Call ", "1", "2", "3", " now"], Split(new DigitsPreTokenizer(true), "Call 123 now"));
        Assert.Equal(["Call ", "123", " now ", "٣"], Split(new DigitsPreTokenizer(false), "Call 123 now ٣"));
        Assert.Equal(["a", "b", "c"], Split(new CharDelimiterSplitPreTokenizer('x'), "axbxxc"));
    }

    [Fact]
    public void UnicodeScripts_split_where_the_script_changes()
    {
        var p = new UnicodeScriptsPreTokenizer();
        Assert.Equal(["どこで生れ", "。", "Yes"], Split(p, "どこで生れ。Yes"));
        Assert.Equal(["Hello ", "Привет ", "世界"], Split(p, "Hello Привет 世界"));
        Assert.Equal(["abc"], Split(p, "  abc")); // leading spaces belong to no piece
        Assert.Empty(Split(p, "   "));
        Assert.Equal(["ひらがなカタカナー漢字"], Split(p, "ひらがなカタカナー漢字")); // kana and U+30FC count as Han
    }

    [Fact]
    public void Unicode_forms()
    {
        var nfc = new UnicodeFormNormalizer(false, true);
        var nfkc = new UnicodeFormNormalizer(true, true);
        var nfkd = new UnicodeFormNormalizer(true, false);
        Assert.Equal("é", Normalize(nfc, "e\u0301"));
        Assert.Equal("\u1E69", Normalize(nfc, "s\u0323\u0307"));       // reordered then composed
        Assert.Equal("\u1E69", Normalize(nfc, "s\u0307\u0323"));
        Assert.Equal("한", Normalize(nfc, "\u1112\u1161\u11AB"));      // Hangul LVT
        Assert.Equal("fi 2 A", Normalize(nfkc, "ﬁ ² Ａ"));
        Assert.Equal("ﬁ", Normalize(nfc, "ﬁ"));
        Assert.Equal("e\u0301", Normalize(nfkd, "é"));
        Assert.Equal("\u0627\u0644\u0644\u0647", Normalize(nfkc, "\uFDF2"));
        Assert.Equal("plain ascii", Normalize(nfkc, "plain ascii"));
    }

    [Fact]
    public void Strip_left_right()
    {
        Assert.Equal("a b", Normalize(new StripNormalizer(true, true), " \u3000a b\t\n"));
        Assert.Equal("a b\t", Normalize(new StripNormalizer(true, false), "  a b\t"));
        Assert.Equal("  a b", Normalize(new StripNormalizer(false, true), "  a b\t"));
        Assert.Equal("", Normalize(new StripNormalizer(true, true), "   "));
    }

    [Fact]
    public void Empty_precompiled_charsmap_is_identity()
    {
        var p = new PrecompiledNormalizer([]);
        Assert.True(p.IsIdentity);
        Assert.Equal("Ａ ﬁ \u0001", Normalize(p, "Ａ ﬁ \u0001"));
    }

    [SkippableFact]
    public void T5_precompiled_charsmap_rules()
    {
        var t5 = Tokenizer.FromFile(Oracle.Path(SpmExpectedOutputTests.T5Small));
        // NFKC-like folding and removal of control characters, with offsets into the original.
        var e = t5.Encode("ﬁne\u0001 Ａ", addSpecialTokens: false);
        Assert.Equal(string.Join(' ', t5.Encode("fine A", addSpecialTokens: false).Ids), string.Join(' ', e.Ids));
        Assert.True(e.Offsets[0].Start == 0, string.Join(' ', e.Tokens.Zip(e.Offsets)));
        Assert.True(e.Offsets[^1] == (5, 6), string.Join(' ', e.Tokens.Zip(e.Offsets)));
    }

    [Fact]
    public void Unigram_viterbi_unknowns_and_byte_fallback()
    {
        var vocab = new List<(string, double)> { ("<unk>", 0), ("a", -1), ("b", -2), ("ab", -2.5), ("<0x41>", -5), ("<0xC3>", -5), ("<0xA9>", -5) };
        var model = new Unigram(vocab, 0, byteFallback: false);
        var output = new List<ModelToken>();
        model.Tokenize("abab", output);
        Assert.Equal([3, 3], output.Select(t => t.Id));
        output.Clear();
        model.Tokenize("aXYb", output); // unknowns fused into one token
        Assert.Equal([(1, 0, 1), (0, 1, 3), (2, 3, 4)], output.Select(t => (t.Id, t.Start, t.End)));

        var fallback = new Unigram(vocab, 0, byteFallback: true);
        output.Clear();
        fallback.Tokenize("aé", output); // é -> <0xC3><0xA9>, both spanning the character
        Assert.Equal([(1, 0, 1), (5, 1, 2), (6, 1, 2)], output.Select(t => (t.Id, t.Start, t.End)));
        output.Clear();
        fallback.Tokenize("z", output); // <0x7A> missing -> unk
        Assert.Equal([0], output.Select(t => t.Id));
    }

    [Fact]
    public void Unigram_scores_read_as_the_reference_reads_them()
    {
        // serde_json without float_roundtrip: digits as u64, one division by a power of ten.
        Assert.Equal(12130167007446289.0 / 1e15, JsonNumbers.ParseLikeSerde("12.130167007446289"));
        Assert.Equal(-2.5, JsonNumbers.ParseLikeSerde("-2.5"));
        Assert.Equal(1.5e-7, JsonNumbers.ParseLikeSerde("1.5e-7"));
        Assert.Equal(0.0, JsonNumbers.ParseLikeSerde("0.0"));
    }

    [Fact]
    public void WordLevel_known_and_unknown()
    {
        var tok = Tokenizer.FromJson("""{"version":"1.0","pre_tokenizer":{"type":"Whitespace"},"model":{"type":"WordLevel","vocab":{"[UNK]":0,"hello":1},"unk_token":"[UNK]"}}""");
        Assert.Equal([1, 0, 0], tok.Encode("hello world !").Ids);
        var noUnk = Tokenizer.FromJson("""{"version":"1.0","model":{"type":"WordLevel","vocab":{"hello":1},"unk_token":"[UNK]"}}""");
        Assert.Throws<InvalidOperationException>(() => noUnk.Encode("bye"));
    }

    [Fact]
    public void Legacy_model_type_inference()
    {
        Assert.Equal([1], Tokenizer.FromJson("""{"model":{"vocab":[["<unk>",0],["x",-1]],"unk_id":0}}""").Encode("x").Ids);
        Assert.Equal([1], Tokenizer.FromJson("""{"model":{"vocab":{"<unk>":0,"x":1},"unk_token":"<unk>"}}""").Encode("x").Ids);
        Assert.Equal([1, 2], Tokenizer.FromJson("""{"model":{"vocab":{"[UNK]":0,"x":1,"##y":2},"unk_token":"[UNK]","continuing_subword_prefix":"##"}}""").Encode("xy").Ids);
    }

    [Fact]
    public void Ctc_and_sequence_decoders()
    {
        var ctc = new CtcDecoder();
        Assert.Equal("hello world", ctc.Decode(["<pad>", "h", "e", "l", "l", "<pad>", "l", "o", "o", "|", "w", "o", "r", "l", "d", "<pad>"]));
        Assert.Equal(["h", "e", "l", "l", "o", " ", "w"], ctc.DecodeChain(["h", "e", "l", "<pad>", "l", "o", "|", "w"]));
        var seq = new SequenceDecoder([new CtcDecoder(), new MetaspaceDecoder("▁", PrependScheme.Always)]);
        Assert.Equal("ab c", seq.Decode(["▁a", "▁a", "b", "▁c"]));
        Assert.Equal(["Hey", " friend"], new MetaspaceDecoder("▁", PrependScheme.Always).DecodeChain(["▁Hey", "▁friend"]));
        Assert.Equal([" Hey", " friend"], new MetaspaceDecoder("▁", PrependScheme.Never).DecodeChain(["▁Hey", "▁friend"]));
    }
}
