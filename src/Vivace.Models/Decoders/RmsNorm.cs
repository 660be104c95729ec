using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// RMSNorm as transformers' LlamaRMSNorm: <c>y = x / sqrt(mean(x²) + eps) · weight</c> per row, in f32.
/// Scalar for correctness; a fused backend kernel comes later.
/// </summary>
public sealed class RmsNorm(Tensor weight, float epsilon)
{
    public Tensor Weight { get; } = weight;
    public float Epsilon { get; } = epsilon;

    /// <summary><paramref name="output"/> = RMSNorm(<paramref name="input"/>) over rows of <c>[rows, dim]</c>; may alias.</summary>
    public void Forward(Tensor input, Tensor output)
    {
        int dim = Weight.Shape[0];
        ReadOnlySpan<float> w = Weight.AsSpan();
        Span<float> x = input.AsSpan(), y = output.AsSpan();
        int rows = x.Length / dim;
        for (int r = 0; r < rows; r++)
        {
            Span<float> xr = x.Slice(r * dim, dim), yr = y.Slice(r * dim, dim);
            float sum = 0;
            for (int j = 0; j < dim; j++) sum += xr[j] * xr[j];
            float inv = 1f / MathF.Sqrt(sum / dim + Epsilon);
            for (int j = 0; j < dim; j++) yr[j] = w[j] * (xr[j] * inv);
        }
    }
}
