using Vivace.Cpu.Jit;
using Vivace.Tensors;

namespace Vivace.Cpu.Int8;

/// <summary>
/// A linear layer quantized to int8 at load: per output channel symmetric (scale = max|w| / 127, values in [−127, 127]),
/// packed in 32-column panels in the VNNI layout (<see cref="VnniMicroKernel"/>: per group of four k, each column's
/// four bytes together), k padded to a multiple of 4 with zeros; with each column's sum of quantized weights (the
/// activations go in as unsigned bytes offset by their zero point z, whose contribution z·Σw is taken back out) and the
/// f32 bias.
/// <para>
/// With a <see cref="GroupSize"/> (a multiple of 4) each column's weights get a scale per group of that many k instead
/// of one, and so do each row's activations (<see cref="Int8Gemm"/>): a few large values then cost precision only within
/// their group. The GEMM runs the kernel group by group and adds each group's integers times its scales in f32; the
/// activations' zero point takes back z·s_g·Σw_g per group (<see cref="GroupCorrection"/>).
/// </para>
/// </summary>
public sealed class Int8LinearWeight : ILinearWeight
{
    public Int8LinearWeight(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> bias, string? name,
        int groupSize = 0)
    {
        if (groupSize < 0 || groupSize % VnniMicroKernel.KGroup != 0)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, $"a group size is a positive multiple of {VnniMicroKernel.KGroup} (0: per channel)");
        GroupSize = groupSize >= inFeatures ? 0 : groupSize;
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
        int size = GroupSize == 0 ? inFeatures : GroupSize;
        Groups = (inFeatures + size - 1) / size;
        GroupScales = GroupSize == 0 ? [] : new float[Groups * padded];
        GroupCorrection = GroupSize == 0 ? [] : new float[Groups * padded];
        var row = new sbyte[PaddedK];
        for (int n = 0; n < outFeatures; n++)
        {
            ReadOnlySpan<float> w = weight.Slice(n * inFeatures, inFeatures);
            int sum = 0;
            for (int g = 0; g < Groups; g++)
            {
                int first = g * size, end = Math.Min(inFeatures, first + size), groupSum = 0;
                float max = 0;
                for (int k = first; k < end; k++) max = MathF.Max(max, MathF.Abs(w[k]));
                float scale = max > 0 ? max / 127f : 1f;
                for (int k = first; k < end; k++)
                {
                    row[k] = (sbyte)Math.Clamp(MathF.Round(w[k] / scale, MidpointRounding.ToEven), -127, 127);
                    groupSum += row[k];
                }
                sum += groupSum;
                if (GroupSize == 0) Scales[n] = scale;
                else
                {
                    GroupScales[g * padded + n] = scale;
                    GroupCorrection[g * padded + n] = scale * groupSum;
                }
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
    /// <summary>k per weight scale; 0: one scale per output channel.</summary>
    public int GroupSize { get; }
    /// <summary>Scale groups along k (1 per channel).</summary>
    internal int Groups { get; }
    /// <summary>With groups: [group, padded column] scales.</summary>
    internal float[] GroupScales { get; }
    /// <summary>With groups: [group, padded column] scale · Σ quantized w over the group.</summary>
    internal float[] GroupCorrection { get; }
    internal int PaddedK { get; }
    internal int Panels { get; }
    internal int PanelBytes { get; }
    internal sbyte[] Packed { get; }
    internal float[] Scales { get; }
    internal int[] ColumnSums { get; }
    /// <summary>The bias, zeros where the layer has none (and past the last column).</summary>
    internal float[] Bias { get; }
}
