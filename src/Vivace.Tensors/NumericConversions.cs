namespace Vivace.Tensors;

/// <summary>Storage-type conversions done once at load time.</summary>
public static class NumericConversions
{
    public static void HalfToSingle(ReadOnlySpan<Half> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination too short");
        for (int i = 0; i < src.Length; i++) dst[i] = (float)src[i];
    }

    /// <summary>bf16 is the top 16 bits of an f32: widening is a shift.</summary>
    public static void BFloat16ToSingle(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination too short");
        for (int i = 0; i < src.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(src[i] << 16);
    }

    /// <summary>Round-to-nearest-even f32 to bf16 (NaN stays NaN).</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
