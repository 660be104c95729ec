using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// Rotary position embedding, default (unscaled) rope with the rotate_half convention transformers' Llama uses:
/// dimension i pairs with i + headDim/2, rotated by angle <c>pos · theta^(−2i/headDim)</c>.
/// Scalar for correctness; a fused kernel comes later.
/// </summary>
public sealed class Rope
{
    private readonly float[] _invFreq;

    public Rope(int headDim, float theta)
    {
        HeadDim = headDim;
        _invFreq = new float[headDim / 2];
        // As transformers: 1 / theta^(arange(0, dim, 2) / dim), computed in f32.
        for (int i = 0; i < _invFreq.Length; i++) _invFreq[i] = 1f / MathF.Pow(theta, 2f * i / headDim);
    }

    public int HeadDim { get; }

    /// <summary>Rotates every head of <paramref name="x"/> <c>[tokens, heads·headDim]</c> in place; row t at <paramref name="positions"/>[t].</summary>
    public void Apply(Tensor x, ReadOnlySpan<int> positions)
    {
        int half = HeadDim / 2;
        Span<float> data = x.AsSpan();
        int width = x.Shape[1];
        Span<float> cos = stackalloc float[half], sin = stackalloc float[half];
        for (int t = 0; t < positions.Length; t++)
        {
            for (int i = 0; i < half; i++)
            {
                // transformers multiplies in f32 (inv_freq · position) then takes cos/sin.
                float angle = _invFreq[i] * positions[t];
                cos[i] = MathF.Cos(angle);
                sin[i] = MathF.Sin(angle);
            }
            Span<float> row = data.Slice(t * width, width);
            for (int h = 0; h < width; h += HeadDim)
            {
                for (int i = 0; i < half; i++)
                {
                    float a = row[h + i], b = row[h + i + half];
                    row[h + i] = a * cos[i] - b * sin[i];
                    row[h + i + half] = b * cos[i] + a * sin[i];
                }
            }
        }
    }
}
