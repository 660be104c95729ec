using Vivace.Tests;
using Vivace.Formats;
using Vivace.Models.SentenceTransformers;
using Vivace.Tensors;

namespace Vivace.Models.Tests;

/// <summary>sentence-transformers semantics: module chain, pooling modes, normalization, max_seq_length.</summary>
public sealed class SentenceTransformerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vivace-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Two sequences of lengths 3 and 1 over H = 2.
    private static readonly float[] Tokens = [1, -2, 3, 4, -5, 0.5f, /* second sequence */ 7, 8];
    private static readonly RaggedBatch Batch = new([3, 1]);

    private static float[][] Pool(PoolingConfig config) => Pooling.Apply(config, Tensor.FromArray((float[])Tokens.Clone(), 4, 2), Batch);

    [Fact]
    public void MeanPoolingAveragesTheTokensOfEachSequence()
    {
        float[][] v = Pool(new PoolingConfig { MeanTokens = true });
        Assert.Equal([-1f / 3, 2.5f / 3], v[0]);
        Assert.Equal([7f, 8f], v[1]);
    }

    [Fact]
    public void ClsMaxAndMeanSqrtLenPooling()
    {
        Assert.Equal([1f, -2f], Pool(new PoolingConfig { ClsToken = true })[0]);
        Assert.Equal([3f, 4f], Pool(new PoolingConfig { MaxTokens = true })[0]);
        float[] sqrt = Pool(new PoolingConfig { MeanSqrtLenTokens = true })[0];
        Assert.Equal(-1f / MathF.Sqrt(3), sqrt[0], 6);
        Assert.Equal(2.5f / MathF.Sqrt(3), sqrt[1], 6);
        Assert.Equal([-5f, 0.5f], Pool(new PoolingConfig { LastToken = true })[0]);
    }

    [Fact]
    public void SeveralModesConcatenateInSentenceTransformersOrder()
    {
        float[] v = Pool(new PoolingConfig { MeanTokens = true, ClsToken = true, MaxTokens = true })[0];
        Assert.Equal([1f, -2f, 3f, 4f, -1f / 3, 2.5f / 3], v);
    }

    [Fact]
    public void NormalizeGivesUnitLengthAndLeavesZeroAlone()
    {
        float[] v = [3, 4];
        Pooling.Normalize(v);
        Assert.Equal([0.6f, 0.8f], v);
        float[] zero = [0, 0];
        Pooling.Normalize(zero);
        Assert.Equal([0f, 0f], zero);
    }

    private void Write(string relative, string text)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private const string Modules = """
        [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
         {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
        """;

    /// <summary>[CLS] pooling runs the last layer on first tokens only; the vectors equal pooling the full forward's
    /// output (and an empty sequence falls back to the full forward, pooled as zeros).</summary>
    [SkippableFact]
    public void ClsPoolingOnFirstTokensEqualsPoolingTheFullOutput()
    {
        string dir = SharedData.Require("goldens", "bert-small");
        IEncoderModel encoder = EncoderModelLoader.Load(dir, Vivace.Cpu.CpuOps.Default);
        var cls = new PoolingConfig { ClsToken = true };
        var model = new SentenceTransformer(encoder, new SentenceTransformerConfig { Pooling = cls }, Vivace.Cpu.CpuOps.Default);
        var rng = new Random(3);
        int[][] sequences = [.. new[] { 9, 1, 17, 4 }.Select(n => Enumerable.Range(0, n).Select(_ => rng.Next(1, encoder.VocabSize)).ToArray())];
        var batch = EncoderBatch.FromSequences(sequences);
        float[][] expected = Pooling.Apply(cls, encoder.Forward(batch, withPooler: false).LastHiddenState, batch.Sequences);
        float[][] got = model.Encode(batch, normalize: false);
        for (int i = 0; i < expected.Length; i++)
            for (int j = 0; j < expected[i].Length; j++)
                Assert.True(MathF.Abs(expected[i][j] - got[i][j]) <= 1e-5f * (1 + MathF.Abs(expected[i][j])), $"sequence {i} dim {j}: {got[i][j]} vs {expected[i][j]}");
        Assert.Throws<ArgumentException>(() => encoder.Forward(EncoderBatch.FromSequences([[5], []]), firstTokensOnly: true));
        float[][] withEmpty = model.Encode(EncoderBatch.FromSequences([sequences[0], []]), normalize: false);
        Assert.Equal(expected[0], withEmpty[0]);
        Assert.All(withEmpty[1], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ReadsModulesPoolingAndMaxSeqLength()
    {
        Write("modules.json", Modules);
        Write("1_Pooling/config.json", """{"word_embedding_dimension": 384, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}""");
        Write("sentence_bert_config.json", """{"max_seq_length": 128, "do_lower_case": false}""");
        var config = SentenceTransformerConfig.Load(_dir);
        Assert.True(config.IsSentenceTransformer);
        Assert.True(config.Normalize);
        Assert.True(config.Pooling.ClsToken);
        Assert.False(config.Pooling.MeanTokens);
        Assert.Equal(384, config.Pooling.WordEmbeddingDimension);
        Assert.Equal(128, config.MaxSeqLength);
    }

    [Fact]
    public void WithoutModulesJsonFallsBackToMeanPoolingUnnormalized()
    {
        var config = SentenceTransformerConfig.Load(_dir);
        Assert.False(config.IsSentenceTransformer);
        Assert.True(config.Pooling.MeanTokens);
        Assert.False(config.Normalize);
    }

    [Theory]
    [InlineData("modules.json", "{not json", "modules.json")]
    [InlineData("modules.json", """[{"path": "", "type": "sentence_transformers.models.Mystery"}]""", "Mystery")]
    [InlineData("sentence_bert_config.json", """{"max_seq_length": -3}""", "max_seq_length")]
    [InlineData("1_Pooling/config.json", """{"pooling_mode_mean_tokens": "yes"}""", "pooling_mode_mean_tokens")]
    [InlineData("1_Pooling/config.json", """{"pooling_mode_mean_tokens": false}""", "no pooling mode")]
    public void BadConfigsAreErrorsNamingFileAndField(string file, string content, string mentioned)
    {
        Write("modules.json", Modules);
        Write("1_Pooling/config.json", """{"pooling_mode_mean_tokens": true}""");
        Write(file, content);
        var e = Assert.ThrowsAny<ModelFormatException>(() => SentenceTransformerConfig.Load(_dir));
        Assert.Contains(mentioned, e.Message);
        Assert.Contains(Path.GetFileName(file), e.Message);
    }
}
