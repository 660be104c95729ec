using System.Text.Json;

namespace Vivace.Tokenizers.Tests;

/// <summary>Outputs recorded from Python transformers / llama.cpp, paired with tokenizer files per MANIFEST.md.</summary>
public class ExpectedOutputTests
{
    private const string BertUncased = "FastBertTokenizer/bert-base-uncased/tokenizer.json";
    private const string MiniLm = "daulet-tokenizers/all-minilm-l6-v2.tokenizer.json";
    private const string MultilingualCased = "FastBertTokenizer/bert-base-multilingual-cased/tokenizer.json";
    private const string Bge = "FastBertTokenizer/baai-bge-small-en/tokenizer.json";

    private static JsonElement Json(string relative) => JsonDocument.Parse(File.ReadAllText(Oracle.Path(relative))).RootElement;

    [SkippableTheory]
    [InlineData("swift-transformers/encoded/bert_uncased_encoded.json", BertUncased)]
    [InlineData("swift-transformers/encoded/distilbert_cased_encoded.json", MultilingualCased)]
    public void Swift_encoded_paragraph(string expectedFile, string tokenizerFile)
    {
        var e = Json(expectedFile);
        var tok = Tokenizer.FromFile(Oracle.Path(tokenizerFile));
        var enc = tok.Encode(e.GetProperty("text").GetString()!);
        Assert.Equal(e.GetProperty("token_ids").EnumerateArray().Select(x => x.GetInt32()), enc.Ids);
        var pieces = e.GetProperty("bpe_tokens").EnumerateArray().Select(x => x.GetString()).ToArray();
        Assert.Equal(pieces, enc.Tokens[1..^1]);
    }

    [SkippableTheory]
    [InlineData("bert-base-uncased", BertUncased)]
    [InlineData("google-bert/bert-base-uncased", BertUncased)]
    [InlineData("bert-base-uncased", MiniLm)]
    [InlineData("distilbert/distilbert-base-multilingual-cased", MultilingualCased)]
    public void Swift_tokenizer_tests(string model, string tokenizerFile)
    {
        var cases = Json("swift-transformers/tokenizer_tests.json").GetProperty(model);
        var tok = Tokenizer.FromFile(Oracle.Path(tokenizerFile)).WithoutPadding();
        int n = 0;
        foreach (var c in cases.EnumerateArray())
        {
            var enc = tok.Encode(c.GetProperty("input").GetString()!);
            var expected = c.GetProperty("encoded");
            Assert.Equal(expected.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()), enc.Ids);
            if (expected.TryGetProperty("token_type_ids", out var typeIds)) // absent for DistilBERT
                Assert.Equal(typeIds.EnumerateArray().Select(x => x.GetInt32()), enc.TypeIds);
            Assert.Equal(c.GetProperty("decoded_with_special").GetString(), tok.Decode(enc.Ids, skipSpecialTokens: false, cleanUpTokenizationSpaces: true));
            Assert.Equal(c.GetProperty("decoded_without_special").GetString(), tok.Decode(enc.Ids, cleanUpTokenizationSpaces: true));
            Assert.Equal(expected.GetProperty("attention_mask").EnumerateArray().Select(x => x.GetInt32()), enc.AttentionMask);
            n++;
        }
        Assert.True(n >= 18);
    }

    [SkippableFact]
    public void Squad_questions_wordpiece_tokens()
    {
        var tok = Tokenizer.FromFile(Oracle.Path(BertUncased));
        int n = 0, bad = 0;
        string? first = null;
        foreach (var q in Json("swift-transformers/bert-squad/question_tokens.json").EnumerateArray())
        {
            var expected = q.GetProperty("wordpiece").EnumerateArray().Select(x => x.GetString()!).ToArray();
            var ours = tok.Encode(q.GetProperty("original").GetString()!, addSpecialTokens: false).Tokens;
            n++;
            if (!expected.SequenceEqual(ours)) { bad++; first ??= q.GetProperty("original").GetString(); }
        }
        Assert.Equal(10570, n);
        Assert.True(bad == 0, $"{bad} questions differ, first: {first}");
    }

    [SkippableFact]
    public void LlamaCpp_bert_bge_without_special_tokens()
    {
        var inputs = File.ReadAllText(Oracle.Path("llama.cpp/vocab-tests/ggml-vocab.inp")).Split("\n__ggml_vocab_test__\n");
        var outputs = File.ReadAllLines(Oracle.Path("llama.cpp/vocab-tests/ggml-vocab-bert-bge.gguf.out"));
        Assert.Equal(46, outputs.Length);
        var tok = Tokenizer.FromFile(Oracle.Path(Bge));
        for (int i = 0; i < outputs.Length; i++)
        {
            var expected = outputs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse);
            Assert.Equal(expected, tok.Encode(inputs[i], addSpecialTokens: false).Ids);
        }
    }

    [SkippableFact]
    public void Multilingual_baseline_bge_small()
    {
        var inputs = Json("swift-transformers/multilingual-conformance/inputs.json").EnumerateArray()
            .ToDictionary(x => x.GetProperty("id").GetString()!, x => x.GetProperty("text").GetString()!);
        var tok = Tokenizer.FromFile(Oracle.Path(Bge));
        int n = 0;
        foreach (var e in Json("swift-transformers/multilingual-conformance/baselines/bge_small_multilingual.json").GetProperty("entries").EnumerateArray())
        {
            var enc = tok.Encode(inputs[e.GetProperty("id").GetString()!]);
            Assert.Equal(e.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()), enc.Ids);
            Assert.Equal(e.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()), enc.Tokens);
            Assert.Equal(e.GetProperty("decoded_with_special").GetString(), tok.Decode(enc.Ids, skipSpecialTokens: false, cleanUpTokenizationSpaces: true));
            n++;
        }
        Assert.Equal(83, n);
    }
}
