using Vivace.Cpu.Jit;
using Vivace.Tensors;

namespace Vivace.Cpu.Bf16;

/// <summary>
/// A linear layer for the AVX512-BF16 kernel: W <c>[out, in]</c> rounded to bf16 (nearest even; bf16 input kept) and
/// packed in 32-column panels of k-pairs (<see cref="Bf16MicroKernel.Pack"/>'s layout), K padded to even and the last
/// panel's columns with zeros; f32 bias padded to whole panels.
/// </summary>
internal sealed class Bf16DotLinearWeight : ILinearWeight
{
    public Bf16DotLinearWeight(Tensor weight, ReadOnlySpan<float> bias, string? name)
    {
        OutFeatures = weight.Shape[0];
        InFeatures = weight.Shape[1];
        Name = name;
        PaddedK = (InFeatures + 1) & ~1;
        Panels = (OutFeatures + Bf16MicroKernel.Columns - 1) / Bf16MicroKernel.Columns;
        PanelElements = PaddedK * Bf16MicroKernel.Columns;
        int n = OutFeatures, k = InFeatures, kp = PaddedK;
        var rows = new ushort[(long)Panels * Bf16MicroKernel.Columns * kp];
        if (weight.DType == DType.BF16)
        {
            ReadOnlySpan<ushort> raw = weight.Span<ushort>();
            for (int r = 0; r < n; r++) raw.Slice(r * k, k).CopyTo(rows.AsSpan(r * kp, k));
        }
        else
        {
            ReadOnlySpan<float> values = weight.ToF32().AsSpan();
            for (int r = 0; r < n; r++)
                for (int i = 0; i < k; i++) rows[(long)r * kp + i] = NumericConversions.SingleToBFloat16(values[r * k + i]);
        }
        Packed = new ushort[Math.Max(1, (long)Panels * PanelElements)];
        for (int p = 0; p < Panels; p++)
            Bf16MicroKernel.Pack(rows.AsSpan(p * Bf16MicroKernel.Columns * kp), kp, kp, Packed.AsSpan(p * PanelElements, PanelElements));
        Bias = new float[Panels * Bf16MicroKernel.Columns];
        bias.CopyTo(Bias);
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public string? Name { get; }
    public int PaddedK { get; }
    public int Panels { get; }
    /// <summary>bf16 values one panel holds (PaddedK · 32).</summary>
    public int PanelElements { get; }
    public ushort[] Packed { get; }
    public float[] Bias { get; }
}
