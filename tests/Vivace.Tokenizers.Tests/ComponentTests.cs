using Vivace.Tests;
using System.Text.Json.Nodes;
using Vivace.Tokenizers.Decoders;
using Vivace.Tokenizers.Normalizers;

namespace Vivace.Tokenizers.Tests;

/// <summary>JSON dispatch, component equivalences, and the components on their own.</summary>
public class ComponentTests
{
    private static JsonObject UncasedJson() =>
        JsonNode.Parse(File.ReadAllText(Oracle.Path("FastBertTokenizer/bert-base-uncased/tokenizer.json")))!.AsObject();

    private static Tokenizer Load(JsonObject json) => Tokenizer.FromJson(json.ToJsonString());

    [SkippableTheory]
    [InlineData("normalizer", """{"type":"NFKC_CF"}""", "NFKC_CF")]
    [InlineData("normalizer", """{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Unknown"}]}""", "Unknown")]
    [InlineData("pre_tokenizer", """{"type":"NotAPreTokenizer"}""", "NotAPreTokenizer")]
    [InlineData("pre_tokenizer", """{"type":"Sequence","pretokenizers":[{"type":"Metaspace"},{"type":"Unknown"}]}""", "Unknown")]
    [InlineData("decoder", """{"type":"NotADecoder"}""", "NotADecoder")]
    [InlineData("post_processor", """{"type":"NotAProcessor"}""", "NotAProcessor")]
    [InlineData("model", """{"type":"BPE","vocab":{},"merges":[],"dropout":0.1}""", "BPE with dropout")]
    [InlineData("model", """{"type":"Unknown","vocab":[]}""", "Unknown")]
    public void Unsupported_components_name_their_type(string stage, string component, string type)
    {
        var json = UncasedJson();
        json[stage] = JsonNode.Parse(component);
        var ex = Assert.Throws<UnsupportedComponentException>(() => Load(json));
        Assert.Equal(type, ex.ComponentType);
        Assert.Contains(type, ex.Message);
        Assert.IsAssignableFrom<NotSupportedException>(ex);
    }

    [SkippableFact]
    public void Sequences_of_supported_components_equal_the_components()
    {
        var plain = TestTokenizers.Uncased;
        var json = UncasedJson();
        json["normalizer"] = new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(json["normalizer"]!.DeepClone()) };
        json["pre_tokenizer"] = new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(new JsonObject { ["type"] = "WhitespaceSplit" }, json["pre_tokenizer"]!.DeepClone()) };
        var seq = Load(json);
        foreach (var line in Corpus.Lines.Take(2000))
        {
            var a = plain.Encode(line);
            var b = seq.Encode(line);
            Assert.Equal(a.Ids, b.Ids);
            Assert.Equal(a.Offsets, b.Offsets);
        }
    }

    [SkippableFact]
    public void Null_normalizer_and_legacy_model_without_type()
    {
        var json = UncasedJson();
        json["normalizer"] = null;
        json["model"]!.AsObject().Remove("type");
        var tok = Load(json);
        Assert.Equal(["[CLS]", "hello", "[UNK]", "[SEP]"], tok.Encode("hello HELLO").Tokens);
    }

    [SkippableFact]
    public void BertProcessing_equals_the_template()
    {
        var json = UncasedJson();
        json["post_processor"] = JsonNode.Parse("""{"type":"BertProcessing","sep":["[SEP]",102],"cls":["[CLS]",101]}""");
        var bert = Load(json);
        var template = TestTokenizers.Uncased;
        var lines = Corpus.Lines.Take(300).ToList();
        for (int i = 1; i < lines.Count; i++)
        {
            var a = template.EncodePair(lines[i - 1], lines[i]);
            var b = bert.EncodePair(lines[i - 1], lines[i]);
            Assert.Equal(a.Ids, b.Ids);
            Assert.Equal(a.TypeIds, b.TypeIds);
            Assert.Equal(a.SpecialTokensMask, b.SpecialTokensMask);
        }
    }

    [SkippableFact]
    public void Template_without_special_tokens_keeps_pair_type_ids()
    {
        var e = TestTokenizers.Uncased.EncodePair("a b", "c", addSpecialTokens: false);
        Assert.Equal(["a", "b", "c"], e.Tokens);
        Assert.Equal([0, 0, 1], e.TypeIds);
    }

    [SkippableFact]
    public void Added_tokens_matched_in_raw_text_only_exactly()
    {
        var tok = TestTokenizers.Uncased;
        Assert.Equal(["[CLS]", "x", "[MASK]", "y", "[SEP]"], tok.Encode("x[MASK]y").Tokens);
        // Lowercase "[mask]" is not the added token; it is normalized and split as text.
        Assert.Equal(["[CLS]", "[", "mask", "]", "[SEP]"], tok.Encode("[mask]").Tokens);
        Assert.Equal(0, tok.Encode("[MASK]").SpecialTokensMask[1]);
        Assert.Equal(103, tok.TokenToId("[MASK]"));
        Assert.Equal("[MASK]", tok.IdToToken(103));
        Assert.Equal("##ization", tok.IdToToken(tok.TokenToId("##ization")!.Value));
        Assert.Null(tok.TokenToId("not-a-token"));
        Assert.Null(tok.IdToToken(-1));
        Assert.Null(tok.IdToToken(1_000_000));
        Assert.Equal(30522, tok.VocabSize);
    }

    [SkippableFact]
    public void Lstrip_rstrip_added_tokens_take_surrounding_whitespace()
    {
        var json = UncasedJson();
        var added = json["added_tokens"]!.AsArray();
        foreach (var t in added)
            if ((string?)t!["content"] == "[MASK]") { t["lstrip"] = true; t["rstrip"] = true; }
        var tok = Load(json);
        const string text = "a  [MASK]  b";
        var e = tok.Encode(text, addSpecialTokens: false);
        Assert.Equal(["a", "[MASK]", "b"], e.Tokens);
        Assert.Equal((1, 11), e.Offsets[1]);
    }

    [Fact]
    public void Normalizers_on_their_own()
    {
        Assert.Equal(" 中  国 x", Run(new BertNormalizer(true, true, true, true), "中国\u200Bx"));
        Assert.Equal("istanbul i\u0307", Run(new BertNormalizer(true, false, true, true), "İstanbul") + " " + Run(new BertNormalizer(true, false, false, true), "İ"));
        Assert.Equal("a b c", Run(new BertNormalizer(true, false, false, false), "a\tb\u3000c\u0007"));
        Assert.Equal("cafe", Run(new BertNormalizer(false, false, true, false), "café"));
        Assert.Equal("\u1100\u1161\u11A8", Run(new NfdNormalizer(), "각"));
        Assert.Equal("e\u0301", Run(new NfdNormalizer(), "é"));
        // Canonical ordering: below (220) sorts before above (230).
        Assert.Equal("a\u0323\u0301", Run(new NfdNormalizer(), "a\u0301\u0323"));
        Assert.Equal("a", Run(new StripAccentsNormalizer(), "a\u0323"));
        Assert.Equal("ab", Run(new StripAccentsNormalizer(), "a\u0301b"));
        Assert.Equal("σσ ǆ", Run(new LowercaseNormalizer(), "ΣΣ Ǆ")); // per char: no final-sigma rule
    }

    private static string Run(INormalizer n, string text)
    {
        var ns = new NormalizedString();
        ns.Reset(text, 0, text.Length);
        n.Normalize(ns);
        return ns.Normalized.ToString();
    }

    [Fact]
    public void WordPiece_decoder_joins_prefix_and_cleans_per_token()
    {
        Assert.Equal("##uelo Araújo Noguera", new WordPieceDecoder("##", cleanup: false).Decode(["##uelo", "Ara", "##új", "##o", "No", "##guera"]));
        Assert.Equal("hello, world. don ' t", new WordPieceDecoder().Decode(["hello", ",", "world", ".", "don", "'", "t"]));
        Assert.Equal("hello, world. don't", TokenizationSpaces.CleanUp("hello , world . don ' t"));
    }
}
