using Vivace.Cpu.Jit;
using Vivace.Tensors;

namespace Vivace.Cpu.Int8;

/// <summary>
/// A linear layer quantized to int8 at load: per output channel symmetric (scale = max|w| / 127, values in [−127, 127]),
/// packed in 32-column panels in the VNNI layout (<see cref="VnniMicroKernel"/>: per group of four k, each column's
/// four bytes together), k padded to a multiple of 4 with zeros; with each column's sum of quantized weights (the
/// activations go in as unsigned bytes offset by their zero point z, whose contribution z·Σw is taken back out) and the
/// f32 bias.
/// </summary>
public sealed class Int8LinearWeight : ILinearWeight
{
    public Int8LinearWeight(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> bias, string? name)
    {
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        Name = name;
        PaddedK = (inFeatures + 3) & ~3;
        Panels = (outFeatures + VnniMicroKernel.Columns - 1) / VnniMicroKernel.Columns;
        PanelBytes = PaddedK / VnniMicroKernel.KGroup * VnniMicroKernel.PanelBytesPerGroup;
        Packed = new sbyte[Math.Max(1, Panels * PanelBytes)];
        // Per-column arrays padded to whole panels, so a panel's dequantization loads full vectors.
        int padded = Panels * VnniMicroKernel.Columns;
        Scales = new float[padded];
        ColumnSums = new int[padded];
        Bias = new float[padded];
        bias.CopyTo(Bias);
        var row = new sbyte[PaddedK];
        for (int n = 0; n < outFeatures; n++)
        {
            ReadOnlySpan<float> w = weight.Slice(n * inFeatures, inFeatures);
            float max = 0;
            foreach (float x in w) max = MathF.Max(max, MathF.Abs(x));
            float scale = max > 0 ? max / 127f : 1f;
            Scales[n] = scale;
            int sum = 0;
            for (int k = 0; k < inFeatures; k++)
            {
                row[k] = (sbyte)Math.Clamp(MathF.Round(w[k] / scale, MidpointRounding.ToEven), -127, 127);
                sum += row[k];
            }
            ColumnSums[n] = sum;
            int panel = n / VnniMicroKernel.Columns, column = n % VnniMicroKernel.Columns;
            Span<sbyte> target = Packed.AsSpan(panel * PanelBytes, PanelBytes);
            for (int g = 0; g < PaddedK / VnniMicroKernel.KGroup; g++)
                for (int i = 0; i < VnniMicroKernel.KGroup; i++)
                    target[g * VnniMicroKernel.PanelBytesPerGroup + column * VnniMicroKernel.KGroup + i] = row[g * VnniMicroKernel.KGroup + i];
        }
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public string? Name { get; }
    internal int PaddedK { get; }
    internal int Panels { get; }
    internal int PanelBytes { get; }
    internal sbyte[] Packed { get; }
    internal float[] Scales { get; }
    internal int[] ColumnSums { get; }
    /// <summary>The bias, zeros where the layer has none (and past the last column).</summary>
    internal float[] Bias { get; }
}
