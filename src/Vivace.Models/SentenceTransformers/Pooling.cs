using Vivace.Tensors;

namespace Vivace.Models.SentenceTransformers;

/// <summary>Turns token vectors <c>[tokens, H]</c> of a ragged batch into one vector per sequence.</summary>
public static class Pooling
{
    /// <summary>The pooled vectors, <c>[batch][ModeCount·H]</c>.</summary>
    public static float[][] Apply(PoolingConfig config, Tensor tokens, RaggedBatch sequences)
    {
        int h = tokens.Shape[1];
        ReadOnlySpan<float> x = tokens.AsSpan();
        var result = new float[sequences.Count][];
        for (int s = 0; s < sequences.Count; s++)
        {
            var output = new float[config.ModeCount * h];
            int start = sequences.Start(s), length = sequences.Length(s);
            ReadOnlySpan<float> rows = x.Slice(start * h, length * h);
            int offset = 0;
            if (config.ClsToken) { if (length > 0) rows[..h].CopyTo(output.AsSpan(offset)); offset += h; }
            if (config.MaxTokens) { Max(rows, length, h, output.AsSpan(offset, h)); offset += h; }
            if (config.MeanTokens) { Mean(rows, length, h, output.AsSpan(offset, h), MathF.Max(length, 1e-9f)); offset += h; }
            if (config.MeanSqrtLenTokens) { Mean(rows, length, h, output.AsSpan(offset, h), MathF.Sqrt(MathF.Max(length, 1e-9f))); offset += h; }
            if (config.LastToken) { if (length > 0) rows.Slice((length - 1) * h, h).CopyTo(output.AsSpan(offset)); offset += h; }
            result[s] = output;
        }
        return result;
    }

    /// <summary>Sum of the rows divided by <paramref name="divisor"/>; sums in f32 in token order, as torch does on CPU.</summary>
    private static void Mean(ReadOnlySpan<float> rows, int length, int h, Span<float> output, float divisor)
    {
        output.Clear();
        for (int t = 0; t < length; t++)
        {
            ReadOnlySpan<float> row = rows.Slice(t * h, h);
            for (int j = 0; j < h; j++) output[j] += row[j];
        }
        for (int j = 0; j < h; j++) output[j] /= divisor;
    }

    /// <summary>Element-wise max; an empty sequence pools to sentence-transformers' padding value, -1e9.</summary>
    private static void Max(ReadOnlySpan<float> rows, int length, int h, Span<float> output)
    {
        output.Fill(length == 0 ? -1e9f : float.NegativeInfinity);
        for (int t = 0; t < length; t++)
        {
            ReadOnlySpan<float> row = rows.Slice(t * h, h);
            for (int j = 0; j < h; j++) output[j] = MathF.Max(output[j], row[j]);
        }
    }

    /// <summary>L2-normalizes in place as torch.nn.functional.normalize (norm clamped at 1e-12).</summary>
    public static void Normalize(Span<float> vector)
    {
        double sum = 0;
        foreach (float v in vector) sum += (double)v * v;
        float norm = MathF.Max((float)Math.Sqrt(sum), 1e-12f);
        for (int i = 0; i < vector.Length; i++) vector[i] /= norm;
    }
}
