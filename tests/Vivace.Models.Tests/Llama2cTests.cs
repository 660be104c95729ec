using System.Text.Json;
using Vivace.Cpu;
using Vivace.Formats.Llama2c;
using Vivace.Models.Decoders;
using Vivace.Tensors;
using Vivace.Tests;
using Vivace.Tokenizers;

namespace Vivace.Models.Tests;

/// <summary>
/// A llama2.c checkpoint (stories260K) runs through <see cref="LlamaModel"/>: greedy generation from BOS reproduces
/// the text upstream run.c prints, byte for byte; and the q/k row permutation makes HF's rotate_half RoPE equal to
/// run.c's interleaved RoPE.
/// </summary>
public class Llama2cTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static string Dir() => SharedData.Require("data", "llama2c-stories260K");

    [SkippableFact]
    public void GreedyFromBosReproducesRunC()
    {
        string dir = Dir();
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected_output.json")));
        JsonElement sampling = expected.RootElement.GetProperty("sampling");
        int steps = sampling.GetProperty("steps").GetInt32();
        long start = sampling.GetProperty("start_token").GetInt64();

        LlamaModel model = Llama2cLoader.LoadLlama2c(dir, CpuOps.Default);
        Tokenizer tokenizer = Tokenizer.FromLlama2c(Path.Combine(dir, "tok512.bin"), model.Config.VocabSize);
        // run.c runs `steps` forward passes (positions 0..steps−1, BOS at 0) and prints the token each one picks, so it
        // emits `steps` new tokens (the last one sits at position `steps`, never fed back); it stops, printing nothing, at BOS.
        var settings = new GenerationSettings(steps, [start], start);
        (long[] ids, int length) = BatchGenerator.Generate(model, 1, 1, [start], [1L], settings);

        int[] text = ids.Take(length).Select(i => (int)i).ToArray();
        string decoded = tokenizer.Decode(text);
        output.WriteLine(string.Join(",", text));
        output.WriteLine(decoded);
        Assert.Equal(expected.RootElement.GetProperty("expected_text").GetString(), decoded);
    }

    [SkippableFact]
    public void HeaderAndConfigMatchTheManifest()
    {
        string dir = Dir();
        using var checkpoint = Llama2cCheckpoint.Open(Path.Combine(dir, "stories260K.bin"));
        Assert.Equal(new Llama2cHeader(64, 172, 5, 8, 4, 512, 512, SharedClassifier: true), checkpoint.Header);
        DecoderConfig config = DecoderConfig.FromHf(checkpoint.Config);
        Assert.Equal(1e-5f, config.RmsNormEps);
        Assert.Equal(10000f, config.RopeTheta);
        Assert.Equal(8, config.HeadDim);
        Assert.True(config.TieWordEmbeddings);
        Assert.False(checkpoint.Contains("lm_head.weight"));
        Assert.Equal(new Shape(32, 64), checkpoint.GetInfo("model.layers.4.self_attn.k_proj.weight").Shape);
        Assert.Equal(new Shape(64, 172), checkpoint.Get("model.layers.0.mlp.down_proj.weight").Shape);
    }

    [SkippableFact]
    public void LoaderFindsTheCheckpointAndTokenizerInADirectory()
    {
        string dir = Dir();
        Assert.Equal(Path.Combine(dir, "stories260K.bin"), Llama2cLoader.FindCheckpoint(dir));
        Assert.Equal(Path.Combine(dir, "tok512.bin"), Llama2cLoader.FindTokenizer(dir));
        Assert.Equal(Path.Combine(dir, "tok512.bin"), Llama2cLoader.FindTokenizer(Path.Combine(dir, "stories260K.bin")));
        LlamaModel fromFile = Llama2cLoader.LoadLlama2c(Path.Combine(dir, "stories260K.bin"), CpuOps.Default);
        Assert.Equal(5, fromFile.Config.Layers);
        Assert.Equal(4, fromFile.Config.KeyValueHeads);
    }

    /// <summary>run.c's RoPE: pairs (2i, 2i+1) of each head rotated by pos · 10000^(−2i/headSize).</summary>
    private static void InterleavedRope(float[] x, int headSize, int pos)
    {
        for (int j = 0; j < x.Length; j += 2)
        {
            int headDim = j % headSize;
            float freq = 1f / MathF.Pow(10000f, headDim / (float)headSize);
            float angle = pos * freq, c = MathF.Cos(angle), s = MathF.Sin(angle);
            float v0 = x[j], v1 = x[j + 1];
            x[j] = v0 * c - v1 * s;
            x[j + 1] = v0 * s + v1 * c;
        }
    }

    [Fact]
    public void PermutedRowsMakeRotateHalfEqualInterleavedRope()
    {
        const int headSize = 8, heads = 3, width = headSize * heads;
        var rng = new Random(5);
        float[] x = Enumerable.Range(0, width).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
        // A column vector's entries are permuted exactly as the projection's rows are.
        float[] permuted = Llama2cCheckpoint.InterleavedToHalves(x, width, 1, headSize);
        var rope = new Rope(headSize, 10000f);
        foreach (int pos in new[] { 0, 1, 7, 300 })
        {
            float[] runC = (float[])x.Clone();
            InterleavedRope(runC, headSize, pos);
            Tensor hf = Tensor.FromArray((float[])permuted.Clone(), 1, width);
            rope.Apply(hf, [pos]);
            float[] expected = Llama2cCheckpoint.InterleavedToHalves(runC, width, 1, headSize);
            for (int i = 0; i < width; i++) Assert.Equal(expected[i], hf.AsSpan()[i], 1e-5f);
        }
    }
}
