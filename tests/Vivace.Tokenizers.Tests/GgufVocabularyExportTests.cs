using Vivace.Formats.Gguf;
using Vivace.Tokenizers.Gguf;
using Vivace.Tests;

namespace Vivace.Tokenizers.Tests;

/// <summary>
/// <see cref="Tokenizer.ToGgufMetadata"/> written as a real GGUF file (the Formats writer) and read back by
/// <see cref="Tokenizer.FromGguf(GgufMetadata)"/>: the same tokenizer, id for id, on the corpus.
/// </summary>
public class GgufVocabularyExportTests
{
    private static GgufMetadata RoundTrip(Tokenizer tokenizer, int? bos = null, int? eos = null)
    {
        var writer = new GgufWriter();
        writer.AddMetadata("general.architecture", "llama");
        foreach (var (key, value) in tokenizer.ToGgufMetadata(bos, eos)) writer.AddMetadata(key, value);
        var stream = new MemoryStream();
        writer.Write(stream);
        stream.Position = 0;
        return GgufMetadata.Read(stream);
    }

    private static void AssertSameTokenizer(Tokenizer expected, Tokenizer actual)
    {
        Assert.Equal(expected.VocabSize, actual.VocabSize);
        for (int id = 0; id < expected.VocabSize; id++) Assert.Equal(expected.IdToToken(id), actual.IdToToken(id));
        foreach (string line in Corpus.Lines.Take(3000).Concat(Corpus.HardCases))
        {
            int[] ids = expected.Encode(line).Ids.ToArray();
            Assert.Equal(ids, actual.Encode(line).Ids.ToArray());
            Assert.Equal(expected.Decode(ids), actual.Decode(ids));
        }
    }

    [SkippableFact]
    public void Llama2cVocabularyRoundTripsThroughGguf()
    {
        Tokenizer tok512 = Tokenizer.FromLlama2c(Oracle.Path("llama2c-stories260K/tok512.bin"));
        GgufMetadata gguf = RoundTrip(tok512);
        Assert.Equal("llama", gguf.GetString("tokenizer.ggml.model"));
        Assert.Equal(1L, gguf.GetInt("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2L, gguf.GetInt("tokenizer.ggml.eos_token_id"));
        Assert.Equal(0L, gguf.GetInt("tokenizer.ggml.unknown_token_id"));
        int[] types = gguf.GetArray<int>("tokenizer.ggml.token_type")!;
        Assert.Equal([2, 3, 3], types[..3]);                  // unknown, control, control
        Assert.Equal(6, types[13]);                           // <0x0A>: a byte piece
        AssertSameTokenizer(tok512, Tokenizer.FromGguf(gguf));
    }

    [SkippableFact]
    public void SentencePieceModelThatFoldsSpacesIsRefused()
    {
        // tok512.model sets remove_extra_whitespaces, which llama.cpp's llama vocabulary cannot express: "a  b" would
        // tokenize differently there, so the export says so instead of writing a different tokenizer.
        Tokenizer spm = Tokenizer.FromSentencePieceModel(Oracle.Path("llama2c-stories260K/tok512.model"));
        var e = Assert.Throws<UnsupportedComponentException>(() => spm.ToGgufMetadata());
        Assert.Contains("remove_extra_whitespaces", e.Message);
    }

    [SkippableFact]
    public void LlamaCppVocabularyIsWrittenBackAsItWasRead()
    {
        string path = Oracle.Path("llama.cpp/ggml-vocab-llama-spm.gguf");
        GgufMetadata original = GgufMetadata.Read(path);
        Tokenizer tok = Tokenizer.FromGguf(original);
        GgufMetadata again = RoundTrip(tok);
        foreach (string key in new[] { "tokenizer.ggml.tokens" })
            Assert.Equal(original.GetArray<string>(key), again.GetArray<string>(key));
        Assert.Equal(original.GetArray<float>("tokenizer.ggml.scores"), again.GetArray<float>("tokenizer.ggml.scores"));
        Assert.Equal(original.GetArray<int>("tokenizer.ggml.token_type"), again.GetArray<int>("tokenizer.ggml.token_type"));
        foreach (string key in new[] { "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id" })
            Assert.Equal(original.GetInt(key), again.GetInt(key));
        AssertSameTokenizer(tok, Tokenizer.FromGguf(again));
    }

    [Fact]
    public void AVocabularyWithoutAGgufFormIsAClearError()
    {
        Tokenizer wordLevel = Tokenizer.FromJson("""{"model": {"type": "WordLevel", "vocab": {"a": 0, "[UNK]": 1}, "unk_token": "[UNK]"}}""");
        var e = Assert.Throws<UnsupportedComponentException>(() => wordLevel.ToGgufMetadata());
        Assert.Contains("GGUF", e.Message);
    }

    /// <summary>llama.cpp's own test inputs through the tokenizer read back from the exported file, against the ids HF
    /// transformers gives (the .out files), so the pre-tokenizer name chosen is one llama.cpp splits correctly with.</summary>
    private static void AssertVocabTestsOut(string name, Tokenizer tokenizer)
    {
        string[] inputs = File.ReadAllText(Oracle.Path("llama.cpp/vocab-tests/ggml-vocab.inp")).Split("\n__ggml_vocab_test__\n");
        string[] outputs = File.ReadAllLines(Oracle.Path($"llama.cpp/vocab-tests/ggml-vocab-{name}.gguf.out"));
        Assert.Equal(46, outputs.Length);
        var bad = new List<string>();
        for (int i = 0; i < outputs.Length; i++)
        {
            int[] expected = outputs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            int[] ours = tokenizer.Encode(inputs[i], addSpecialTokens: false).Ids;
            if (!expected.SequenceEqual(ours)) bad.Add($"{i} {OracleParityTests.Escape(inputs[i])}: expected {string.Join(' ', expected)} got {string.Join(' ', ours)}");
        }
        Assert.True(bad.Count == 0, $"{bad.Count}/46 differ:\n" + string.Join('\n', bad.Take(6)));
    }

    [SkippableFact]
    public void Gpt2TokenizerJsonIsWrittenAsLlamaCppsConverterWritesIt()
    {
        // llama.cpp's ggml-vocab-gpt-2.gguf was written by its converter from the same tokenizer.json: same tokens,
        // merges and token types, the same pre-tokenizer name.
        Tokenizer json = BpeTestFiles.Load(BpeTestFiles.Gpt2);
        GgufMetadata exported = RoundTrip(json, eos: 50256);
        GgufMetadata llamaCpp = GgufMetadata.Read(Oracle.Path("llama.cpp/ggml-vocab-gpt-2.gguf"));
        Assert.Equal("gpt2", exported.GetString("tokenizer.ggml.model"));
        Assert.Equal(llamaCpp.GetString("tokenizer.ggml.pre"), exported.GetString("tokenizer.ggml.pre"));
        foreach (string key in new[] { "tokenizer.ggml.tokens", "tokenizer.ggml.merges" })
            Assert.Equal(llamaCpp.GetArray<string>(key), exported.GetArray<string>(key));
        Assert.Equal(llamaCpp.GetArray<int>("tokenizer.ggml.token_type"), exported.GetArray<int>("tokenizer.ggml.token_type"));
        Assert.False(exported.GetBool("tokenizer.ggml.add_bos_token"));
        Assert.Equal(50256L, exported.GetInt("tokenizer.ggml.eos_token_id"));
        Assert.Null(exported.GetInt("tokenizer.ggml.bos_token_id"));

        Tokenizer back = Tokenizer.FromGguf(exported);
        AssertSameTokenizer(json, back);
        AssertVocabTestsOut("gpt-2", back);
    }

    [SkippableTheory]
    [InlineData(BpeTestFiles.Llama3Tiktoken, "llama-bpe", "llama-bpe")]
    [InlineData(BpeTestFiles.Falcon, "falcon", "falcon")]
    [InlineData(BpeTestFiles.Phi2, "gpt-2", "phi-2")]
    public void ByteLevelVocabulariesRoundTripUnderTheRightPreTokenizer(string file, string pre, string vocabTest)
    {
        Tokenizer original = BpeTestFiles.Load(file);
        GgufMetadata exported = RoundTrip(original);
        Assert.Equal(pre, exported.GetString("tokenizer.ggml.pre"));
        Tokenizer back = Tokenizer.FromGguf(exported);
        AssertSameTokenizer(original, back);
        AssertVocabTestsOut(vocabTest, back);
    }

    [SkippableFact]
    public void Llama3VocabularyKeepsItsBosAndSpecialTokens()
    {
        Tokenizer llama3 = BpeTestFiles.Load(BpeTestFiles.Llama3Tiktoken);
        GgufMetadata exported = RoundTrip(llama3, eos: 128009);
        Assert.True(exported.GetBool("tokenizer.ggml.add_bos_token"));
        Assert.Equal(128000L, exported.GetInt("tokenizer.ggml.bos_token_id"));
        Assert.Equal(128009L, exported.GetInt("tokenizer.ggml.eos_token_id"));
        int[] types = exported.GetArray<int>("tokenizer.ggml.token_type")!;
        Assert.Equal(128256, types.Length);
        Assert.All(types[128000..], t => Assert.Equal(3, t));      // the 256 specials: control
        Assert.All(types[..128000], t => Assert.Equal(1, t));      // ranks: normal
        Tokenizer back = Tokenizer.FromGguf(exported);
        int[] ids = back.Encode("<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>").Ids;
        Assert.Equal(llama3.Encode("<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>").Ids, ids);
        Assert.Equal(128000, ids[0]);
    }

    [SkippableFact]
    public void Cl100kRoundTripsAndMatchesLlamaCppDbrx()
    {
        // cl100k (DBRX's vocabulary): the Llama 3 split without a BOS; llama.cpp's dbrx test inputs, read back.
        Tokenizer cl100k = BpeTestFiles.Load(BpeTestFiles.Cl100kTiktoken);
        GgufMetadata exported = RoundTrip(cl100k);
        Assert.False(exported.GetBool("tokenizer.ggml.add_bos_token"));
        Tokenizer back = Tokenizer.FromGguf(exported);
        string[] inputs = File.ReadAllText(Oracle.Path("llama.cpp/vocab-tests/ggml-vocab-dbrx.gguf.inp")).Split("\n__ggml_vocab_test__\n");
        string[] outputs = File.ReadAllLines(Oracle.Path("llama.cpp/vocab-tests/ggml-vocab-dbrx.gguf.out"));
        for (int i = 0; i < outputs.Length; i++)
            Assert.Equal(outputs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray(), back.Encode(inputs[i], addSpecialTokens: false).Ids);
    }

    [SkippableFact]
    public void RobertaKeepsItsClsAndSepAsBosAndEos()
    {
        // RoBERTa: GPT-2's split, <s> before and </s> after each sequence — llama.cpp's add_bos / add_eos.
        Tokenizer roberta = BpeTestFiles.Load(BpeTestFiles.Roberta);
        GgufMetadata exported = RoundTrip(roberta);
        Assert.Equal("gpt-2", exported.GetString("tokenizer.ggml.pre"));
        Assert.True(exported.GetBool("tokenizer.ggml.add_bos_token"));
        Assert.True(exported.GetBool("tokenizer.ggml.add_eos_token"));
        Assert.Equal(0L, exported.GetInt("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2L, exported.GetInt("tokenizer.ggml.eos_token_id"));
        Tokenizer back = Tokenizer.FromGguf(exported);
        foreach (string line in Corpus.Lines.Take(500)) Assert.Equal(roberta.Encode(line).Ids, back.Encode(line).Ids);
    }

    [Fact]
    public void ByteLevelWithAPrefixSpaceIsRefused()
    {
        // add_prefix_space puts a space before the first word, which no llama.cpp pre-tokenizer does ("Hello" would be a
        // different token there): the export names the pre-tokenizer instead of writing a file that tokenizes otherwise.
        Tokenizer prefixed = Tokenizer.FromJson("""
            {"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
             "model": {"type": "BPE", "vocab": {"H": 0, "i": 1, "Hi": 2, "Ġ": 3, "ĠHi": 4}, "merges": ["H i", "Ġ Hi"]},
             "decoder": {"type": "ByteLevel"}}
            """);
        var e = Assert.Throws<UnsupportedComponentException>(() => prefixed.ToGgufMetadata());
        Assert.Contains("pre-tokenizer", e.Message);
    }

    [Fact]
    public void ByteLevelVocabularyWithAnUnknownRegexIsRefused()
    {
        // A split on every letter: nothing llama.cpp runs splits so.
        Tokenizer odd = Tokenizer.FromJson("""
            {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
               {"type": "Split", "pattern": {"Regex": "\\p{L}"}, "behavior": "Isolated", "invert": false},
               {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
             "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3}, "merges": ["a b"]},
             "decoder": {"type": "ByteLevel"}}
            """);
        var e = Assert.Throws<UnsupportedComponentException>(() => odd.ToGgufMetadata());
        Assert.Contains("pre-tokenizer", e.Message);
    }

    /// <summary>
    /// A byte-level BPE tokenizer.json over every byte plus "12" and "Ġ1" (merged "Ġ 1" before "1 2"), split by
    /// <paramref name="regex"/>: where the digits and the space before them land decides the ids, so each llama.cpp
    /// pre-tokenizer family gives different ids on digit runs.
    /// </summary>
    private static Tokenizer DigitsProbeTokenizer(string regex, bool ignoreMerges, string? normalizer = null)
    {
        var byteChars = new List<char>();
        for (int b = 0; b < 256; b++)
            byteChars.Add((b is >= '!' and <= '~') || (b is >= 0xA1 and <= 0xAC) || (b is >= 0xAE and <= 0xFF) ? (char)b : '\0');
        int next = 256;
        for (int b = 0; b < 256; b++) if (byteChars[b] == '\0') byteChars[b] = (char)next++;
        var vocab = byteChars.Select((c, i) => $"{System.Text.Json.JsonSerializer.Serialize(c.ToString())}: {i}").ToList();
        vocab.Add("\"Ġ1\": 256");
        vocab.Add("\"12\": 257");
        string normalizerJson = normalizer == null ? "" : $"\"normalizer\": {{\"type\": \"{normalizer}\"}},";
        string vocabJson = "{" + string.Join(", ", vocab) + "}";
        string json = "{" + normalizerJson + $$"""
             "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
               {"type": "Split", "pattern": {"Regex": {{System.Text.Json.JsonSerializer.Serialize(regex)}} }, "behavior": "Isolated", "invert": false},
               {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
             "model": {"type": "BPE", "vocab": {{vocabJson}}, "merges": ["Ġ 1", "1 2"], "ignore_merges": {{(ignoreMerges ? "true" : "false")}} },
             "decoder": {"type": "ByteLevel"} }
            """;
        return Tokenizer.FromJson(json);
    }

    private const string HfLlama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string HfQwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [Theory]
    [InlineData(HfQwen2Regex, false, "NFC", "qwen2")]
    [InlineData(HfLlama3Regex, false, null, "dbrx")]
    [InlineData(HfLlama3Regex, true, null, "llama-bpe")]
    [InlineData(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", false, null, "gpt-2")]
    public void DigitSplitsPickTheirLlamaCppPreTokenizer(string regex, bool ignoreMerges, string? normalizer, string pre)
    {
        Tokenizer tokenizer = DigitsProbeTokenizer(regex, ignoreMerges, normalizer);
        GgufMetadata exported = RoundTrip(tokenizer);
        Assert.Equal(pre, exported.GetString("tokenizer.ggml.pre"));
        Tokenizer back = Tokenizer.FromGguf(exported);
        foreach (string text in new[] { "a 12 123 1234567 x1y 9", "\n 1\n\n12  123" })
            Assert.Equal(tokenizer.Encode(text).Ids, back.Encode(text).Ids);
    }

    [Fact]
    public void ANormalizerLlamaCppLacksIsRefused()
    {
        var e = Assert.Throws<UnsupportedComponentException>(() => DigitsProbeTokenizer(HfQwen2Regex, false, "NFKC").ToGgufMetadata());
        Assert.Contains("normalizer", e.Message);
    }

    /// <summary>The model loader's metadata (Formats' reader, every value in its own width) handed to the tokenizer gives
    /// what the tokenizer's own reader gives: same keys, same values, so a GGUF model's header is read once.</summary>
    [SkippableTheory]
    [InlineData("gpt-2")]
    [InlineData("llama-spm")]
    [InlineData("bert-bge")]
    [InlineData("deepseek-llm")]
    public void MetadataFromTheModelReaderEqualsTheTokenizersOwn(string name)
    {
        string path = Oracle.Path($"llama.cpp/ggml-vocab-{name}.gguf");
        GgufMetadata own = GgufMetadata.Read(path);
        using GgufFile file = GgufFile.Open(path);
        GgufMetadata handed = GgufMetadata.FromValues(file.Metadata, file.Version);
        Assert.Equal(own.Version, handed.Version);
        Assert.Equal(own.Values.Keys.Order(StringComparer.Ordinal), handed.Values.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, value) in own.Values)
        {
            object other = handed.Values[key];
            if (value is System.Collections.IEnumerable a && value is not string)
                Assert.Equal(a.Cast<object>(), ((System.Collections.IEnumerable)other).Cast<object>());
            else Assert.Equal(value, other);
        }
        Tokenizer fromOwn = Tokenizer.FromGguf(own), fromHanded = Tokenizer.FromGguf(handed);
        foreach (string line in Corpus.Lines.Take(200)) Assert.Equal(fromOwn.Encode(line).Ids, fromHanded.Encode(line).Ids);
    }
}
