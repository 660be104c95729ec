using Vivace.Formats.Llama2c;
using Vivace.Tensors;

namespace Vivace.Formats.Tests;

/// <summary>
/// <see cref="Llama2cCheckpoint"/> on small synthetic files whose every float is its own index, so each tensor's
/// offset, shape and row order can be checked exactly; and malformed files are rejected with a named reason.
/// </summary>
public class Llama2cCheckpointTests
{
    // dim 4, hidden 6, 1 layer, 2 heads (head size 2), 1 kv head, vocab 5, seq_len 3.
    private const int Dim = 4, Hidden = 6, Heads = 2, KvHeads = 1, Vocab = 5, SeqLen = 3, KvDim = 2;

    /// <summary>Header, then <paramref name="floats"/> floats valued 0, 1, 2, ...</summary>
    private static string Write(int vocabField, long floats, int[]? header = null)
    {
        string path = Path.Combine(Path.GetTempPath(), $"vivace-llama2c-{Guid.NewGuid():N}.bin");
        using var w = new BinaryWriter(File.Create(path));
        foreach (int v in header ?? [Dim, Hidden, 1, Heads, KvHeads, vocabField, SeqLen]) w.Write(v);
        for (long i = 0; i < floats; i++) w.Write((float)i);
        return path;
    }

    private static long WeightFloats(bool shared)
    {
        long n = Vocab * Dim + Dim + Dim * Dim + KvDim * Dim * 2 + Dim * Dim + Dim + Hidden * Dim * 3 + Dim;
        n += 2 * SeqLen * (Dim / Heads / 2); // freq_cis_real/imag
        return shared ? n : n + Vocab * Dim;
    }

    [Fact]
    public void TensorsLieInRunCOrderWithTheClassifierLast()
    {
        string path = Write(-Vocab, WeightFloats(shared: false));
        try
        {
            using var c = Llama2cCheckpoint.Open(path);
            Assert.False(c.Header.SharedClassifier);
            Assert.Equal(Vocab, c.Header.VocabSize);
            Assert.False(c.Config.GetBool("tie_word_embeddings", true));
            Assert.Equal(0f, c.Get("model.embed_tokens.weight").AsSpan()[0]);
            Assert.Equal(20f, c.Get("model.layers.0.input_layernorm.weight").AsSpan()[0]);
            // v_proj follows q_proj (16) and k_proj (8): 24 + 16 + 8.
            Assert.Equal(48f, c.Get("model.layers.0.self_attn.v_proj.weight").AsSpan()[0]);
            Assert.Equal(new Shape(Dim, Hidden), c.GetInfo("model.layers.0.mlp.down_proj.weight").Shape);
            // o_proj 56, rms_ffn 72, w1 (gate) 76, w2 (down) 100, w3 (up) 124, rms_final 148, freq_cis 152..157, wcls from 158.
            Assert.Equal(76f, c.Get("model.layers.0.mlp.gate_proj.weight").AsSpan()[0]);
            Assert.Equal(100f, c.Get("model.layers.0.mlp.down_proj.weight").AsSpan()[0]);
            Assert.Equal(124f, c.Get("model.layers.0.mlp.up_proj.weight").AsSpan()[0]);
            Assert.Equal(148f, c.Get("model.norm.weight").AsSpan()[0]);
            Tensor head = c.Get("lm_head.weight");
            Assert.Equal(new Shape(Vocab, Dim), head.Shape);
            Assert.Equal(158f, head.AsSpan()[0]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void QueryAndKeyRowsMoveFromInterleavedPairsToHalves()
    {
        string path = Write(Vocab, WeightFloats(shared: true));
        try
        {
            using var c = Llama2cCheckpoint.Open(path);
            Assert.True(c.Header.SharedClassifier);
            Assert.False(c.Contains("lm_head.weight"));
            // Head size 2 has one pair per head: (0, 1) is already (i, i + half), so rows keep their order...
            Assert.Equal(Enumerable.Range(24, 16).Select(i => (float)i), c.Get("model.layers.0.self_attn.q_proj.weight").AsSpan().ToArray());
            // ...while head size 4 interleaves: rows 0,1,2,3 (pairs (0,1), (2,3)) become 0,2,1,3.
            float[] rows = [0, 1, 2, 3, 4, 5, 6, 7];
            Assert.Equal([0, 2, 1, 3, 4, 6, 5, 7], Llama2cCheckpoint.InterleavedToHalves(rows, 8, 1, 4));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TruncatedFileIsRejected()
    {
        string path = Write(Vocab, WeightFloats(shared: true) - 1);
        try
        {
            var e = Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Open(path));
            Assert.Contains("truncated", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData(0, "dim")]
    [InlineData(3, "n_heads")]       // 3 does not divide dim 4
    [InlineData(-1, "n_kv_heads")]
    public void BadHeaderIsRejected(int value, string field)
    {
        int[] header = [Dim, Hidden, 1, Heads, KvHeads, Vocab, SeqLen];
        header[field switch { "dim" => 0, "n_heads" => 3, _ => 4 }] = value;
        string path = Write(Vocab, WeightFloats(shared: true), header);
        try { Assert.Equal(field, Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Open(path)).Field); }
        finally { File.Delete(path); }
    }
}
