using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>
/// A linear layer's weight packed once for <see cref="Gemm"/>: W [out, in] is cut into panels of 32 output
/// features; panel p stores, for each input feature k, the 32 weights W[32p .. 32p+31, k] side by side. The
/// micro-kernel then reads one contiguous 128-byte row of B per k. The last panel is zero-padded, as is the bias.
/// Storage is pinned and 64-byte aligned, so kernels hold raw pointers without fixing.
/// </summary>
internal sealed unsafe class PackedLinearWeight : ILinearWeight
{
    private const int Alignment = 64;
    private readonly float[] _panelStorage;
    private readonly float[]? _biasStorage;
    private readonly int _panelOffset;
    private readonly int _biasOffset;

    public PackedLinearWeight(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> bias, bool hasBias, string? name)
    {
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        Name = name;
        int width = GemmMicroKernels.PanelWidth;
        PanelCount = (outFeatures + width - 1) / width;
        int packedLength = checked(PanelCount * inFeatures * width);
        (_panelStorage, _panelOffset) = AllocateAligned(packedLength);
        Span<float> packed = _panelStorage.AsSpan(_panelOffset, packedLength);
        for (int p = 0; p < PanelCount; p++)
        {
            int columns = Math.Min(width, outFeatures - p * width);
            Span<float> panel = packed.Slice(p * inFeatures * width, inFeatures * width);
            for (int j = 0; j < columns; j++)
            {
                ReadOnlySpan<float> row = weight.Slice((p * width + j) * inFeatures, inFeatures);
                for (int k = 0; k < inFeatures; k++) panel[k * width + j] = row[k];
            }
        }
        if (hasBias)
        {
            (_biasStorage, _biasOffset) = AllocateAligned(PanelCount * width);
            bias.CopyTo(_biasStorage.AsSpan(_biasOffset));
        }
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public string? Name { get; }
    public int PanelCount { get; }

    /// <summary>Panel p starts at <c>Panels + p·InFeatures·32</c>.</summary>
    public float* Panels => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _panelStorage[_panelOffset]);

    /// <summary>PanelCount·32 values, zero past OutFeatures; null when the layer has no bias.</summary>
    public float* Bias => _biasStorage is null ? null : (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _biasStorage[_biasOffset]);

    private static (float[] Storage, int Offset) AllocateAligned(int length)
    {
        float[] storage = GC.AllocateArray<float>(length + Alignment / sizeof(float), pinned: true);
        nint address = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref storage[0]);
        int offset = (int)((Alignment - address % Alignment) % Alignment) / sizeof(float);
        return (storage, offset);
    }
}
