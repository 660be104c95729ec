using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vivace.Cpu;

/// <summary>
/// bf16 → f32: a bf16 value is the top half of an f32, so widening is exact — zero-extend to 32 bits and shift left
/// by 16. The GEMM widens a bf16 panel slice into an L1/L2 scratch before its tiles read it, so layers stored in bf16
/// stream half the bytes from memory and compute exactly what f32 weights of the same values compute.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Bf16Widening
{
    /// <summary>
    /// <paramref name="count"/> values; 16 lanes at a time on AVX-512, 8 on AVX2, 4 on SSE4.1 (the path decides which),
    /// the tail one by one.
    /// </summary>
    public static void Widen(KernelPath path, ushort* source, float* target, int count)
    {
        int i = 0;
        if (path == KernelPath.Vector512 && Avx512F.IsSupported)
        {
            for (; i <= count - 16; i += 16)
            {
                Vector512<int> wide = Avx512F.ConvertToVector512Int32(Vector256.Load(source + i));
                Vector512.Store(Vector512.ShiftLeft(wide, 16).AsSingle(), target + i);
            }
        }
        else if (path >= KernelPath.Vector256 && Avx2.IsSupported)
        {
            for (; i <= count - 8; i += 8)
            {
                Vector256<int> wide = Avx2.ConvertToVector256Int32(Vector128.Load(source + i));
                Vector256.Store(Vector256.ShiftLeft(wide, 16).AsSingle(), target + i);
            }
        }
        else if (path >= KernelPath.Vector128 && Sse41.IsSupported)
        {
            for (; i <= count - 4; i += 4)
            {
                Vector128<int> wide = Sse41.ConvertToVector128Int32(source + i);
                Vector128.Store(Vector128.ShiftLeft(wide, 16).AsSingle(), target + i);
            }
        }
        for (; i < count; i++) target[i] = BitConverter.Int32BitsToSingle(source[i] << 16);
    }
}
