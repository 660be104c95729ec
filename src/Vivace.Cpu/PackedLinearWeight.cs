using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>
/// A linear layer's weight packed once for <see cref="Gemm"/>: W [out, in] is cut into panels of 32 output
/// features; panel p stores, for each input feature k, the 32 weights W[32p .. 32p+31, k] side by side. The
/// micro-kernel then reads one contiguous 128-byte row of B per k. The last panel is zero-padded, as is the bias.
/// Storage is pinned and 64-byte aligned, so kernels hold raw pointers without fixing.
/// <para>bf16 weights (<see cref="Bf16Panels"/>) use the same layout in 16-bit values: half the bytes to stream; the GEMM
/// widens each panel slice (exactly) before its tiles run.</para>
/// </summary>
internal sealed unsafe class PackedLinearWeight : ILinearWeight
{
    private const int Alignment = 64;
    private readonly float[]? _panelStorage;
    private readonly ushort[]? _bf16Storage;
    private readonly float[]? _biasStorage;
    private readonly int _panelOffset;
    private readonly int _biasOffset;

    public PackedLinearWeight(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> bias, bool hasBias, string? name)
        : this(outFeatures, inFeatures, bias, hasBias, name)
    {
        int packedLength = checked(PanelCount * inFeatures * GemmMicroKernels.PanelWidth);
        (_panelStorage, _panelOffset) = AllocateAligned<float>(packedLength);
        Pack(weight, _panelStorage.AsSpan(_panelOffset, packedLength));
    }

    /// <summary>bf16 weights (raw 16-bit values, HF layout <c>[out, in]</c>) packed as they are.</summary>
    public PackedLinearWeight(ReadOnlySpan<ushort> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> bias, bool hasBias, string? name)
        : this(outFeatures, inFeatures, bias, hasBias, name)
    {
        int packedLength = checked(PanelCount * inFeatures * GemmMicroKernels.PanelWidth);
        (_bf16Storage, _panelOffset) = AllocateAligned<ushort>(packedLength);
        Pack(weight, _bf16Storage.AsSpan(_panelOffset, packedLength));
    }

    private PackedLinearWeight(int outFeatures, int inFeatures, ReadOnlySpan<float> bias, bool hasBias, string? name)
    {
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        Name = name;
        int width = GemmMicroKernels.PanelWidth;
        PanelCount = (outFeatures + width - 1) / width;
        if (hasBias)
        {
            (_biasStorage, _biasOffset) = AllocateAligned<float>(PanelCount * width);
            bias.CopyTo(_biasStorage.AsSpan(_biasOffset));
        }
    }

    private void Pack<T>(ReadOnlySpan<T> weight, Span<T> packed) where T : unmanaged
    {
        int width = GemmMicroKernels.PanelWidth, inFeatures = InFeatures;
        for (int p = 0; p < PanelCount; p++)
        {
            int columns = Math.Min(width, OutFeatures - p * width);
            Span<T> panel = packed.Slice(p * inFeatures * width, inFeatures * width);
            for (int j = 0; j < columns; j++)
            {
                ReadOnlySpan<T> row = weight.Slice((p * width + j) * inFeatures, inFeatures);
                for (int k = 0; k < inFeatures; k++) panel[k * width + j] = row[k];
            }
        }
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public string? Name { get; }
    public int PanelCount { get; }

    /// <summary>Panel p starts at <c>Panels + p·InFeatures·32</c>; null when the weights are bf16.</summary>
    public float* Panels => _panelStorage is null ? null : (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _panelStorage[_panelOffset]);

    /// <summary>The bf16 panels (same layout as <see cref="Panels"/>); null when the weights are f32.</summary>
    public ushort* Bf16Panels => _bf16Storage is null ? null : (ushort*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _bf16Storage[_panelOffset]);

    /// <summary>PanelCount·32 values, zero past OutFeatures; null when the layer has no bias.</summary>
    public float* Bias => _biasStorage is null ? null : (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _biasStorage[_biasOffset]);

    private static (T[] Storage, int Offset) AllocateAligned<T>(int length) where T : unmanaged
    {
        T[] storage = GC.AllocateArray<T>(length + Alignment / sizeof(T), pinned: true);
        nint address = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref storage[0]);
        int offset = (int)((Alignment - address % Alignment) % Alignment) / sizeof(T);
        return (storage, offset);
    }
}
