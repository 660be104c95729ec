using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vivace.Cpu.Quantized;

/// <summary>
/// Prefill (M ≥ 4) on the AVX2 path: one weight row against four activation rows at once, so the weight's per-block
/// work (|w| for Q8_0, the nibble unpacking for Q4_0) and the per-call set-up are shared by four rows. Each row keeps
/// its own two accumulators and goes through exactly the operations, in the order, of <see cref="BlockDotQ8"/> /
/// <see cref="BlockDotQ4"/>'s single-row AVX2 kernels, so a row's output is bit-identical to computing it alone.
/// The scalar reference is the single-row one (a tile is four of them).
/// </summary>
[SkipLocalsInit]
internal static unsafe class BlockTile256
{
    public const int Rows = 4;

    public static bool IsSupported(KernelPath path) => path >= KernelPath.Vector256 && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// out[r] = Σ_b d_w[b]·d_x[r][b]·(w_b · x_r,b) for the four activation rows starting at <paramref name="x"/>
    /// (rows <paramref name="xStride"/> bytes apart, scales <paramref name="dStride"/> floats apart).
    /// </summary>
    public static void Q8(sbyte* w, float* dw, sbyte* x, long xStride, float* dx, int dStride, int blocks, float* result)
    {
        float* s = stackalloc float[Rows * blocks];
        for (int r = 0; r < Rows; r++) BlockDotQ8.ScaleProducts(dw, dx + r * dStride, s + r * blocks, blocks);
        sbyte* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        float* s0 = s, s1 = s + blocks, s2 = s + 2 * blocks, s3 = s + 3 * blocks;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        for (int b = 0; b < blocks; b += 2)
        {
            // Lanes as in BlockDotQ8.Block256: each int32 lane sums four adjacent products of one block.
            Vector256<sbyte> w0 = Vector256.Load(w + b * 32), w1 = Vector256.Load(w + b * 32 + 32);
            Vector256<byte> abs0 = Avx2.Abs(w0), abs1 = Avx2.Abs(w1);
            int o = b * 32;
            a00 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Signed(abs0, w0, Vector256.Load(x0 + o))), Vector256.Create(s0[b]), a00);
            a01 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Signed(abs1, w1, Vector256.Load(x0 + o + 32))), Vector256.Create(s0[b + 1]), a01);
            a10 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Signed(abs0, w0, Vector256.Load(x1 + o))), Vector256.Create(s1[b]), a10);
            a11 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Signed(abs1, w1, Vector256.Load(x1 + o + 32))), Vector256.Create(s1[b + 1]), a11);
            a20 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Signed(abs0, w0, Vector256.Load(x2 + o))), Vector256.Create(s2[b]), a20);
            a21 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Signed(abs1, w1, Vector256.Load(x2 + o + 32))), Vector256.Create(s2[b + 1]), a21);
            a30 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Signed(abs0, w0, Vector256.Load(x3 + o))), Vector256.Create(s3[b]), a30);
            a31 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Signed(abs1, w1, Vector256.Load(x3 + o + 32))), Vector256.Create(s3[b + 1]), a31);
        }
        result[0] = Vector256.Sum(a00 + a01);
        result[1] = Vector256.Sum(a10 + a11);
        result[2] = Vector256.Sum(a20 + a21);
        result[3] = Vector256.Sum(a30 + a31);
    }

    /// <summary>|w|·sign(x, w) = w·x, summed four products to an int32 lane (see BlockDotQ8.Block256).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Signed(Vector256<byte> absW, Vector256<sbyte> w, Vector256<sbyte> x)
    {
        Vector256<sbyte> signedX = Avx2.Sign(x, w);
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, absW, signedX);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(absW, signedX), Vector256.Create((short)1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Unsigned(Vector256<byte> q, Vector256<sbyte> x)
    {
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, q, x);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q, x), Vector256.Create((short)1));
    }

    /// <summary>As <see cref="Q8"/> for a Q4_0 row (pair layout); <paramref name="correction"/> rows are <paramref name="dStride"/> apart.</summary>
    public static void Q4(byte* w, float* dw, sbyte* x, long xStride, float* dx, float* correction, int dStride, int blocks, float* result)
    {
        float* s = stackalloc float[Rows * blocks];
        for (int r = 0; r < Rows; r++) BlockDotQ8.ScaleProducts(dw, dx + r * dStride, s + r * blocks, blocks);
        sbyte* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        float* s0 = s, s1 = s + blocks, s2 = s + 2 * blocks, s3 = s + 3 * blocks;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        for (int b = 0; b < blocks; b += 2)
        {
            // The pair: low nibbles block b, high nibbles block b+1 (BlockLinearWeight), unpacked once for four rows.
            Vector256<byte> v = Vector256.Load(w + b * 16);
            Vector256<byte> lo = v & mask, hi = Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask;
            int o = b * 32;
            a00 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Unsigned(lo, Vector256.Load(x0 + o))), Vector256.Create(s0[b]), a00);
            a01 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Unsigned(hi, Vector256.Load(x0 + o + 32))), Vector256.Create(s0[b + 1]), a01);
            a10 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Unsigned(lo, Vector256.Load(x1 + o))), Vector256.Create(s1[b]), a10);
            a11 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Unsigned(hi, Vector256.Load(x1 + o + 32))), Vector256.Create(s1[b + 1]), a11);
            a20 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Unsigned(lo, Vector256.Load(x2 + o))), Vector256.Create(s2[b]), a20);
            a21 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Unsigned(hi, Vector256.Load(x2 + o + 32))), Vector256.Create(s2[b + 1]), a21);
            a30 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Unsigned(lo, Vector256.Load(x3 + o))), Vector256.Create(s3[b]), a30);
            a31 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Unsigned(hi, Vector256.Load(x3 + o + 32))), Vector256.Create(s3[b + 1]), a31);
        }
        result[0] = Vector256.Sum(a00 + a01) + BlockDotQ4.Correction(dw, correction, blocks);
        result[1] = Vector256.Sum(a10 + a11) + BlockDotQ4.Correction(dw, correction + dStride, blocks);
        result[2] = Vector256.Sum(a20 + a21) + BlockDotQ4.Correction(dw, correction + 2 * dStride, blocks);
        result[3] = Vector256.Sum(a30 + a31) + BlockDotQ4.Correction(dw, correction + 3 * dStride, blocks);
    }
}
