using Vivace.Cpu;
using Vivace.Formats;
using Vivace.Formats.Safetensors;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Models.Tests;

/// <summary>
/// Each encoder reproduces the outputs transformers computed for the same checkpoint (../shared/goldens):
/// every non-padding position within 1e-4 of the largest magnitude, for a right-padded batch.
/// </summary>
public class GoldenTests
{
    [SkippableTheory]
    [InlineData("bert-small")]
    [InlineData("bert-wide")]
    [InlineData("roberta-small")]
    [InlineData("xlm-roberta-small")]
    [InlineData("distilbert-small")]
    [InlineData("mpnet-small")]
    public void EncoderMatchesTransformers(string name)
    {
        using GoldenBatch golden = Load(name);
        var (model, goldens, input, mask, _, seq) = golden;
        Assert.Contains(0L, mask); // the batch really has padding

        EncoderOutput output = model.Forward(input);

        float[] hidden = input.ToPadded(output.LastHiddenState, seq);
        AssertClose(goldens.Get("last_hidden_state").AsSpan(), hidden, mask, model.HiddenSize, "last_hidden_state");
        if (goldens.Contains("pooler_output"))
        {
            Assert.NotNull(output.PoolerOutput);
            AssertClose(goldens.Get("pooler_output").AsSpan(), output.PoolerOutput!.AsSpan(), null, model.HiddenSize, "pooler_output");
        }
    }

    /// <summary>
    /// First tokens only (the last layer's attention output and FFN on each sequence's first token alone): those rows of
    /// last_hidden_state and pooler_output still match transformers, and equal the full forward's rows.
    /// </summary>
    [SkippableTheory]
    [InlineData("bert-small")]
    [InlineData("roberta-small")]
    [InlineData("distilbert-small")]
    [InlineData("mpnet-small")]
    public void FirstTokensOnlyMatchTransformers(string name)
    {
        using GoldenBatch golden = Load(name);
        var (model, goldens, input, _, batch, seq) = golden;
        int h = model.HiddenSize;

        EncoderOutput full = model.Forward(input), first = model.Forward(input, firstTokensOnly: true);

        Assert.True(first.FirstTokensOnly);
        Assert.Equal([batch, h], first.LastHiddenState.Shape.ToArray());
        ReadOnlySpan<float> lastHidden = goldens.Get("last_hidden_state").AsSpan();
        var expected = new float[batch * h];
        var fromFull = new float[batch * h];
        for (int b = 0; b < batch; b++)
        {
            // Right-padded: every sequence's first token is column 0.
            lastHidden.Slice(b * seq * h, h).CopyTo(expected.AsSpan(b * h));
            full.LastHiddenState.AsSpan().Slice(input.Sequences.Start(b) * h, h).CopyTo(fromFull.AsSpan(b * h));
        }
        AssertClose(expected, first.LastHiddenState.AsSpan(), null, h, "first-token last_hidden_state");
        AssertClose(fromFull, first.LastHiddenState.AsSpan(), null, h, "first-token rows vs the full forward");
        if (goldens.Contains("pooler_output"))
            AssertClose(goldens.Get("pooler_output").AsSpan(), first.PoolerOutput!.AsSpan(), null, h, "pooler_output");
    }

    /// <summary>A golden's encoder, its outputs file and its right-padded batch.</summary>
    private sealed record GoldenBatch(IEncoderModel Model, SafetensorsFile Goldens, EncoderBatch Input, long[] Mask, int Batch, int Seq) : IDisposable
    {
        public void Dispose() => Goldens.Dispose();
    }

    private static GoldenBatch Load(string name)
    {
        string dir = SharedData.Require("goldens", name);
        IEncoderModel model = EncoderModelLoader.Load(dir, CpuOps.Default);
        var goldens = SafetensorsFile.Open(Path.Combine(dir, "goldens.safetensors"));
        Tensor ids = goldens.GetRaw("input_ids");
        int batch = ids.Shape[0], seq = ids.Shape[1];
        long[] mask = goldens.GetRaw("attention_mask").Span<long>().ToArray();
        long[] types = goldens.Contains("token_type_ids") ? goldens.GetRaw("token_type_ids").Span<long>().ToArray() : [];
        return new GoldenBatch(model, goldens, EncoderBatch.FromPadded(batch, seq, ids.Span<long>(), mask, types), mask, batch, seq);
    }

    /// <summary>Max |expected − actual| over non-padding rows ≤ 1e-4 · max |expected|.</summary>
    /// <summary>Rows where the mask is set agree within 1e-4 of the golden's largest magnitude; returns (max diff, that magnitude).</summary>
    internal static (float Worst, float Scale) AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, long[]? mask, int dim, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 0, worst = 0;
        int rows = expected.Length / dim;
        for (int r = 0; r < rows; r++)
        {
            if (mask != null && mask[r] == 0) continue;
            for (int j = 0; j < dim; j++)
            {
                scale = MathF.Max(scale, MathF.Abs(expected[r * dim + j]));
                worst = MathF.Max(worst, MathF.Abs(expected[r * dim + j] - actual[r * dim + j]));
            }
        }
        Assert.True(scale > 0, $"{what}: golden is all zeros");
        Assert.True(worst <= 1e-4f * scale, $"{what}: max abs diff {worst} exceeds 1e-4 × {scale}");
        return (worst, scale);
    }
}
