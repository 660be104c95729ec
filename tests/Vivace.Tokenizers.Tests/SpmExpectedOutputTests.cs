using System.Text.Json;

namespace Vivace.Tokenizers.Tests;

/// <summary>Unigram / SentencePiece outputs recorded from Python transformers, paired per MANIFEST.md.</summary>
public class SpmExpectedOutputTests
{
    internal const string T5Small = "ort-extensions/t5-small/tokenizer.json";

    private static JsonElement Json(string relative) => JsonDocument.Parse(File.ReadAllText(Oracle.Path(relative))).RootElement;

    [SkippableFact]
    public void Swift_t5_base_encoded_paragraph()
    {
        var e = Json("swift-transformers/encoded/t5_base_encoded.json");
        var tok = Tokenizer.FromFile(Oracle.Path(T5Small));
        var enc = tok.Encode(e.GetProperty("text").GetString()!);
        Assert.Equal(e.GetProperty("token_ids").EnumerateArray().Select(x => x.GetInt32()), enc.Ids);
        var pieces = e.GetProperty("bpe_tokens").EnumerateArray().Select(x => x.GetString()).ToArray();
        Assert.Equal(pieces, enc.Tokens[..^1]);
        Assert.Equal(e.GetProperty("decoded_text").GetString(), tok.Decode(enc.Ids, skipSpecialTokens: false, cleanUpTokenizationSpaces: true));
    }

    [SkippableFact]
    public void Swift_tokenizer_tests_t5_base()
    {
        var cases = Json("swift-transformers/tokenizer_tests.json").GetProperty("t5-base");
        var tok = Tokenizer.FromFile(Oracle.Path(T5Small));
        int n = 0;
        foreach (var c in cases.EnumerateArray())
        {
            var enc = tok.Encode(c.GetProperty("input").GetString()!);
            var expected = c.GetProperty("encoded");
            Assert.Equal(expected.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()), enc.Ids);
            Assert.Equal(expected.GetProperty("attention_mask").EnumerateArray().Select(x => x.GetInt32()), enc.AttentionMask);
            Assert.Equal(c.GetProperty("decoded_with_special").GetString(), tok.Decode(enc.Ids, skipSpecialTokens: false, cleanUpTokenizationSpaces: true));
            Assert.Equal(c.GetProperty("decoded_without_special").GetString(), tok.Decode(enc.Ids, cleanUpTokenizationSpaces: true));
            n++;
        }
        Assert.Equal(18, n);
    }

    [SkippableFact]
    public void Multilingual_baseline_t5_small()
    {
        var inputs = Json("swift-transformers/multilingual-conformance/inputs.json").EnumerateArray()
            .ToDictionary(x => x.GetProperty("id").GetString()!, x => x.GetProperty("text").GetString()!);
        var tok = Tokenizer.FromFile(Oracle.Path(T5Small));
        int n = 0;
        var bad = new List<string>();
        foreach (var e in Json("swift-transformers/multilingual-conformance/baselines/t5_small_multilingual.json").GetProperty("entries").EnumerateArray())
        {
            string id = e.GetProperty("id").GetString()!;
            var enc = tok.Encode(inputs[id]);
            n++;
            if (!e.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).SequenceEqual(enc.Ids)) { bad.Add(id + " ids"); continue; }
            if (!e.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()).SequenceEqual(enc.Tokens)) bad.Add(id + " tokens");
            if (e.TryGetProperty("decoded_with_special", out var d) && d.GetString() != tok.Decode(enc.Ids, skipSpecialTokens: false, cleanUpTokenizationSpaces: true))
                bad.Add(id + " decode: " + tok.Decode(enc.Ids, skipSpecialTokens: false, cleanUpTokenizationSpaces: true));
        }
        Assert.Equal(83, n);
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }
}
