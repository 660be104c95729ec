using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vivace.Cpu.Quantized;

/// <summary>
/// One Q4_0 weight row (the pair layout of <see cref="BlockLinearWeight"/>) · one Q8_0 activation row:
/// Σ_b d_w[b]·d_x[b]·Σ_i (q_i − 8)·x_i. The SIMD paths multiply the unsigned nibbles q_i (0..15) straight into
/// vpmaddubsw's unsigned operand — no sign trick, no subtraction per block — and take the −8 back once per row as
/// Σ_b d_w[b]·c[b] with c[b] = −8·d_x[b]·Σ_i x_i from the activation quantizer. The integers are exact; only f32
/// rounding differs from the scalar reference (which subtracts 8 value by value).
/// </summary>
[SkipLocalsInit]
internal static unsafe class BlockDotQ4
{
    public static float Dot(KernelPath path, byte* w, float* dw, sbyte* x, float* dx, float* correction, int blocks) => path switch
    {
        KernelPath.Vector512 when Avx512BW.IsSupported => Dot512(w, dw, x, dx, correction, blocks),
        KernelPath.Vector256 or KernelPath.Vector512 when Avx2.IsSupported => Dot256(w, dw, x, dx, correction, blocks),
        KernelPath.Vector128 or KernelPath.Vector256 or KernelPath.Vector512 when Ssse3.IsSupported => Dot128(w, dw, x, dx, correction, blocks),
        _ => DotScalar(w, dw, x, dx, blocks),
    };

    /// <summary>The reference: block b's value i is nibble (b odd: high, even: low) of byte i of pair b/2.</summary>
    public static float DotScalar(byte* w, float* dw, sbyte* x, float* dx, int blocks)
    {
        float acc = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* pair = w + b / 2 * 32;
            int shift = (b & 1) * 4, sum = 0;
            for (int i = 0; i < 32; i++) sum += (((pair[i] >> shift) & 0x0F) - 8) * x[b * 32 + i];
            acc += dw[b] * dx[b] * sum;
        }
        return acc;
    }

    /// <summary>Σ_b d_w[b]·c[b]: the −8·Σx part of every block, 8 blocks a step.</summary>
    internal static float Correction(float* dw, float* correction, int blocks)
    {
        int b = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; b + 8 <= blocks; b += 8) acc += Vector256.Load(dw + b) * Vector256.Load(correction + b);
            sum = Vector256.Sum(acc);
        }
        for (; b < blocks; b++) sum += dw[b] * correction[b];
        return sum;
    }

    /// <summary>8 int32 partial sums of unsigned nibbles · signed bytes (pairs ≤ 2·15·127, far inside int16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Block256(Vector256<byte> q, Vector256<sbyte> x)
    {
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, q, x);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q, x), Vector256.Create((short)1));
    }

    /// <summary>One 32-byte load is a pair of blocks: the low nibbles block b, the high nibbles block b+1.</summary>
    private static float Dot256(byte* w, float* dw, sbyte* x, float* dx, float* correction, int blocks)
    {
        float* s = stackalloc float[blocks];
        BlockDotQ8.ScaleProducts(dw, dx, s, blocks);
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        for (int b = 0; b < blocks; b += 2)
        {
            Vector256<byte> v = Vector256.Load(w + b * 16);
            Vector256<byte> lo = v & mask, hi = Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask;
            acc0 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Block256(lo, Vector256.Load(x + b * 32))), Vector256.Create(s[b]), acc0);
            acc1 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Block256(hi, Vector256.Load(x + b * 32 + 32))), Vector256.Create(s[b + 1]), acc1);
        }
        return Vector256.Sum(acc0 + acc1) + Correction(dw, correction, blocks);
    }

    /// <summary>
    /// One 64-byte load is blocks b..b+3 (two pairs): the low nibbles hold b in the lower 256 bits and b+2 in the upper,
    /// the high nibbles b+1 and b+3; the activation halves are gathered to match, the scale products spread with
    /// vpermps as in <see cref="BlockDotQ8"/>. A tail of 2, 4 or 6 blocks takes the 256-bit steps.
    /// </summary>
    private static float Dot512(byte* w, float* dw, sbyte* x, float* dx, float* correction, int blocks)
    {
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        Vector512<byte> mask = Vector512.Create((byte)0x0F);
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<int> p02 = BlockDotQ8.Pair(0, 2), p13 = BlockDotQ8.Pair(1, 3), p46 = BlockDotQ8.Pair(4, 6), p57 = BlockDotQ8.Pair(5, 7);
        int b = 0;
        for (; b + 8 <= blocks; b += 8)
        {
            Vector512<float> s = (Vector256.Load(dw + b) * Vector256.Load(dx + b)).ToVector512Unsafe();
            for (int g = 0; g < 8; g += 4)
            {
                Vector512<byte> v = Vector512.Load(w + (b + g) * 16);
                Vector512<byte> lo = v & mask, hi = Avx512BW.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask;
                sbyte* xb = x + (b + g) * 32;
                Vector512<sbyte> xlo = Vector512.Create(Vector256.Load(xb), Vector256.Load(xb + 64));
                Vector512<sbyte> xhi = Vector512.Create(Vector256.Load(xb + 32), Vector256.Load(xb + 96));
                Vector512<int> ilo = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(lo, xlo), ones);
                Vector512<int> ihi = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(hi, xhi), ones);
                acc0 = Avx512F.FusedMultiplyAdd(Vector512.ConvertToSingle(ilo), Avx512F.PermuteVar16x32(s, g == 0 ? p02 : p46), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(Vector512.ConvertToSingle(ihi), Avx512F.PermuteVar16x32(s, g == 0 ? p13 : p57), acc1);
            }
        }
        float tail = 0;
        if (b < blocks)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            Vector256<byte> mask8 = Vector256.Create((byte)0x0F);
            for (; b < blocks; b += 2)
            {
                Vector256<byte> v = Vector256.Load(w + b * 16);
                Vector256<byte> lo = v & mask8, hi = Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask8;
                acc = Fma.MultiplyAdd(Vector256.ConvertToSingle(Block256(lo, Vector256.Load(x + b * 32))), Vector256.Create(dw[b] * dx[b]), acc);
                acc = Fma.MultiplyAdd(Vector256.ConvertToSingle(Block256(hi, Vector256.Load(x + b * 32 + 32))), Vector256.Create(dw[b + 1] * dx[b + 1]), acc);
            }
            tail = Vector256.Sum(acc);
        }
        return Vector512.Sum(acc0 + acc1) + tail + Correction(dw, correction, blocks);
    }

    /// <summary>SSSE3: the pair's first 16 bytes are values 0–15 of both blocks (low/high nibbles), the next 16 values 16–31.</summary>
    private static float Dot128(byte* w, float* dw, sbyte* x, float* dx, float* correction, int blocks)
    {
        Vector128<float> acc = Vector128<float>.Zero;
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        Vector128<short> ones = Vector128.Create((short)1);
        for (int b = 0; b < blocks; b += 2)
        {
            Vector128<int> sum0 = Vector128<int>.Zero, sum1 = Vector128<int>.Zero;
            for (int h = 0; h < 32; h += 16)
            {
                Vector128<byte> v = Vector128.Load(w + b * 16 + h);
                Vector128<byte> lo = v & mask, hi = Sse2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask;
                sum0 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(lo, Vector128.Load(x + b * 32 + h)), ones);
                sum1 += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(hi, Vector128.Load(x + b * 32 + 32 + h)), ones);
            }
            acc += Vector128.ConvertToSingle(sum0) * Vector128.Create(dw[b] * dx[b]);
            acc += Vector128.ConvertToSingle(sum1) * Vector128.Create(dw[b + 1] * dx[b + 1]);
        }
        return Vector128.Sum(acc) + Correction(dw, correction, blocks);
    }
}
