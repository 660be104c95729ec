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
    private static GgufMetadata RoundTrip(Tokenizer tokenizer)
    {
        var writer = new GgufWriter();
        writer.AddMetadata("general.architecture", "llama");
        foreach (var (key, value) in tokenizer.ToGgufMetadata()) writer.AddMetadata(key, value);
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
}
