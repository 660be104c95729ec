using System.Runtime.Intrinsics;
using Vivace.Tensors;

namespace Vivace.Cpu.Bf16;

/// <summary>
/// f32 → bf16, nearest even, NaNs kept quiet — <see cref="NumericConversions.SingleToBFloat16"/> (the reference) on
/// vector lanes: add 0x7FFF plus the kept part's lowest bit, keep the high half; NaN lanes take their high half with the
/// quiet bit set. Used per row by the bf16 dot GEMM, whose activations are rounded every call.
/// </summary>
internal static unsafe class Bf16Rounding
{
    public static void Round(float* source, ushort* target, int count)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // 16 floats a step (two 8-lane halves narrowed into one vector of 16 ushorts); the tail goes through the
            // scalar reference below.
            for (; i <= count - 16; i += 16)
            {
                Vector256<ushort> rounded = Vector256.Narrow(Lanes(Vector256.Load(source + i)), Lanes(Vector256.Load(source + i + 8)));
                rounded.Store(target + i);
            }
        }
        for (; i < count; i++) target[i] = NumericConversions.SingleToBFloat16(source[i]);
    }

    private static Vector256<uint> Lanes(Vector256<float> value)
    {
        Vector256<uint> bits = value.AsUInt32();
        Vector256<uint> rounded = (bits + (Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One))) >> 16;
        Vector256<uint> quietNaN = (bits >> 16) | Vector256.Create(0x40u);
        return Vector256.ConditionalSelect(Vector256.Equals(value, value).AsUInt32(), rounded, quietNaN);
    }
}
