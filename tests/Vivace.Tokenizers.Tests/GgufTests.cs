using Vivace.Tokenizers.Gguf;

namespace Vivace.Tokenizers.Tests;

/// <summary>GGUF vocabularies through <see cref="Tokenizer.FromGguf(string)"/>, against llama.cpp's expected
/// outputs (HF encode with add_special_tokens = false).</summary>
public class GgufTests
{
    private static string[] Inputs() =>
        File.ReadAllText(Oracle.Path("llama.cpp/vocab-tests/ggml-vocab.inp")).Split("\n__ggml_vocab_test__\n");

    [SkippableTheory]
    [InlineData("bert-bge")]
    [InlineData("llama-spm")]
    [InlineData("phi-3")]
    [InlineData("gpt-2")]
    [InlineData("mpt")]
    [InlineData("refact")]
    [InlineData("starcoder")]
    [InlineData("falcon")]
    [InlineData("deepseek-coder")]
    [InlineData("deepseek-llm")]
    public void Vocab_tests_out(string name)
    {
        var inputs = Inputs();
        var outputs = File.ReadAllLines(Oracle.Path($"llama.cpp/vocab-tests/ggml-vocab-{name}.gguf.out"));
        Assert.Equal(46, outputs.Length);
        var tok = Tokenizer.FromGguf(Oracle.Path($"llama.cpp/ggml-vocab-{name}.gguf"));
        var bad = new List<string>();
        for (int i = 0; i < outputs.Length; i++)
        {
            var expected = outputs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            var ours = tok.Encode(inputs[i], addSpecialTokens: false).Ids;
            if (!expected.SequenceEqual(ours)) bad.Add($"{i} {OracleParityTests.Escape(inputs[i])}: expected {string.Join(' ', expected)} got {string.Join(' ', ours)}");
        }
        Assert.True(bad.Count == 0, $"{bad.Count}/46 differ:\n" + string.Join('\n', bad.Take(8)));
    }

    [SkippableFact]
    public void Bert_bge_gguf_equals_its_tokenizer_json_on_corpus()
    {
        var gguf = Tokenizer.FromGguf(Oracle.Path("llama.cpp/ggml-vocab-bert-bge.gguf"));
        var json = Tokenizer.FromFile(Oracle.Path("FastBertTokenizer/baai-bge-small-en/tokenizer.json")).WithoutPadding().WithoutTruncation();
        int differing = 0;
        foreach (var line in Vivace.Tests.Corpus.Lines)
            if (!gguf.Encode(line).Ids.SequenceEqual(json.Encode(line).Ids)) differing++;
        Assert.Equal(0, differing);
        Assert.Equal("hello world", gguf.Decode(gguf.Encode("Hello World").Ids));
    }

    /// <summary>deepseek-llm's letter class names supplementary-plane ranges (𐐀-𐑏 ...): matched exactly on UTF-16,
    /// inside and just outside each range; a pattern where a construct could split a pair is refused by name.</summary>
    [Fact]
    public void Supplementary_ranges_in_classes_match_by_code_point()
    {
        var regex = new Unicode.OnigRegex("\\s?[A-Za-z𐐀-𐑏𞤀-𞥃]+");
        List<(int, int)> Matches(string text)
        {
            var list = new List<(int, int)>();
            regex.Matches(text, list);
            return list;
        }
        Assert.Equal([(0, 6)], Matches("a\U00010400\U0001044Fb"));          // first and last of the range
        Assert.Equal([(0, 1), (3, 4)], Matches("a\U00010450b"));              // one past the range
        Assert.Equal([(0, 5)], Matches(" \U0001E900\U0001E943"));            // a range across one high surrogate
        Assert.Equal([], Matches("\U0001F600"));                              // an emoji is no letter here
        Assert.Equal("(?:\\uD801[\\uDC00-\\uDC4F])", "(?:" + Unicode.OnigRegex.SurrogateAlternatives(0x10400, 0x1044F) + ")");
        var e = Assert.Throws<UnsupportedComponentException>(() => new Unicode.OnigRegex("[^𐐀-𐑏]+"));
        Assert.Contains("[^", e.Message);
    }

    [SkippableFact]
    public void Metadata_reads_keys()
    {
        var m = GgufMetadata.Read(Oracle.Path("llama.cpp/ggml-vocab-llama-spm.gguf"));
        Assert.Equal(3u, m.Version);
        Assert.Equal("llama", m.GetString("tokenizer.ggml.model"));
        Assert.Equal(32000, m.GetArray<string>("tokenizer.ggml.tokens")!.Length);
        Assert.Equal(32000, m.GetArray<float>("tokenizer.ggml.scores")!.Length);
        Assert.Equal(1, m.GetInt("tokenizer.ggml.bos_token_id"));
        Assert.True(m.GetBool("tokenizer.ggml.add_bos_token"));
    }

    [Fact]
    public void Not_gguf_is_a_clear_error()
    {
        Assert.Throws<InvalidDataException>(() => GgufMetadata.Read(new MemoryStream("GGUX0000"u8.ToArray())));
        Assert.Throws<InvalidDataException>(() => GgufMetadata.Read(new MemoryStream("GGUF\u0003\u0000"u8.ToArray())));
    }
}

public class GgufLlamaTests
{
    [SkippableFact]
    public void Llama_spm_adds_bos_and_decodes_back()
    {
        var tok = Tokenizer.FromGguf(Oracle.Path("llama.cpp/ggml-vocab-llama-spm.gguf"));
        var e = tok.Encode("Hello world");
        Assert.Equal(1, e.Ids[0]);
        Assert.Equal(["<s>", "▁Hello", "▁world"], e.Tokens);
        Assert.Equal("Hello world", tok.Decode(e.Ids));
        Assert.Equal("<s> Hello world", tok.Decode(e.Ids, skipSpecialTokens: false));
        // Byte fallback: a character missing from the vocabulary becomes its UTF-8 bytes, and decodes back.
        var bytes = tok.Encode("🦙", addSpecialTokens: false);
        Assert.All(bytes.Tokens.Skip(1), t => Assert.StartsWith("<0x", t));
        Assert.Equal("🦙", tok.Decode(bytes.Ids));
    }
}
