using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vivace.Cpu.Quantized;

/// <summary>
/// One Q8_0 weight row · one Q8_0 activation row: Σ_b d_w[b]·d_x[b]·(Σ_i w_i·x_i), the inner sums exact in int32
/// (|w|, |x| ≤ 127), the outer one in f32. <paramref name="blocks"/> is even (rows are padded with zero blocks).
/// The SIMD paths sum in another order than the scalar reference, nothing else.
/// </summary>
[SkipLocalsInit]
internal static unsafe class BlockDotQ8
{
    /// <summary>
    /// s[b] = d_w[b]·d_x[b], 8 blocks a multiply: the block loops then broadcast each straight from memory (one load
    /// µop) instead of two scalar loads, a multiply and a register broadcast per block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScaleProducts(float* dw, float* dx, float* s, int blocks)
    {
        int b = 0;
        for (; b + 8 <= blocks; b += 8) (Vector256.Load(dw + b) * Vector256.Load(dx + b)).Store(s + b);
        for (; b < blocks; b++) s[b] = dw[b] * dx[b];
    }

    public static float Dot(KernelPath path, sbyte* w, float* dw, sbyte* x, float* dx, int blocks) => path switch
    {
        KernelPath.Vector512 when Avx512BW.IsSupported => Dot512(w, dw, x, dx, blocks),
        KernelPath.Vector256 or KernelPath.Vector512 when Avx2.IsSupported => Dot256(w, dw, x, dx, blocks),
        KernelPath.Vector128 or KernelPath.Vector256 or KernelPath.Vector512 when Ssse3.IsSupported => Dot128(w, dw, x, dx, blocks),
        _ => DotScalar(w, dw, x, dx, blocks),
    };

    /// <summary>The reference the SIMD paths are tested against.</summary>
    public static float DotScalar(sbyte* w, float* dw, sbyte* x, float* dx, int blocks)
    {
        float acc = 0;
        for (int b = 0; b < blocks; b++)
        {
            int sum = 0;
            for (int i = 0; i < 32; i++) sum += w[b * 32 + i] * x[b * 32 + i];
            acc += dw[b] * dx[b] * sum;
        }
        return acc;
    }

    /// <summary>
    /// The 8 int32 partial sums of one block (each lane: four adjacent products). vpmaddubsw multiplies unsigned by
    /// signed bytes, so the weight goes in as |w| and the activation takes w's sign (vpsignb; w = 0 zeroes it, as
    /// |w| does anyway): |w|·sign(x, w) = w·x. Pairs stay within int16 (2·127·127 = 32258), vpmaddwd adds them to int32.
    /// AVX-VNNI's vpdpbusd does both steps at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Block256(Vector256<sbyte> w, Vector256<sbyte> x)
    {
        Vector256<byte> absW = Avx2.Abs(w);
        Vector256<sbyte> signedX = Avx2.Sign(x, w);
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, absW, signedX);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(absW, signedX), Vector256.Create((short)1));
    }

    /// <summary>One block a vector; two accumulators so consecutive FMAs do not wait on each other.</summary>
    private static float Dot256(sbyte* w, float* dw, sbyte* x, float* dx, int blocks)
    {
        float* s = stackalloc float[blocks];
        ScaleProducts(dw, dx, s, blocks);
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        for (int b = 0; b < blocks; b += 2)
        {
            Vector256<int> i0 = Block256(Vector256.Load(w + b * 32), Vector256.Load(x + b * 32));
            Vector256<int> i1 = Block256(Vector256.Load(w + b * 32 + 32), Vector256.Load(x + b * 32 + 32));
            acc0 = Fma.MultiplyAdd(Vector256.ConvertToSingle(i0), Vector256.Create(s[b]), acc0);
            acc1 = Fma.MultiplyAdd(Vector256.ConvertToSingle(i1), Vector256.Create(s[b + 1]), acc1);
        }
        return Vector256.Sum(acc0 + acc1);
    }

    /// <summary>
    /// Two blocks a vector: lanes 0–7 of the int32 sums belong to the first block, 8–15 to the second (vpmaddubsw and
    /// vpmaddwd never cross 128-bit lanes). AVX-512 has no vpsignb: x is negated under the mask w &lt; 0. Groups of 8
    /// blocks take their scale products with one multiply and spread them over the halves with vpermps.
    /// </summary>
    private static float Dot512(sbyte* w, float* dw, sbyte* x, float* dx, int blocks)
    {
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        Vector512<int> p01 = Pair(0, 1), p23 = Pair(2, 3), p45 = Pair(4, 5), p67 = Pair(6, 7);
        int b = 0;
        for (; b + 8 <= blocks; b += 8)
        {
            Vector512<float> s = (Vector256.Load(dw + b) * Vector256.Load(dx + b)).ToVector512Unsafe();
            acc0 = Avx512F.FusedMultiplyAdd(Vector512.ConvertToSingle(Blocks512(w + b * 32, x + b * 32)), Avx512F.PermuteVar16x32(s, p01), acc0);
            acc1 = Avx512F.FusedMultiplyAdd(Vector512.ConvertToSingle(Blocks512(w + b * 32 + 64, x + b * 32 + 64)), Avx512F.PermuteVar16x32(s, p23), acc1);
            acc0 = Avx512F.FusedMultiplyAdd(Vector512.ConvertToSingle(Blocks512(w + b * 32 + 128, x + b * 32 + 128)), Avx512F.PermuteVar16x32(s, p45), acc0);
            acc1 = Avx512F.FusedMultiplyAdd(Vector512.ConvertToSingle(Blocks512(w + b * 32 + 192, x + b * 32 + 192)), Avx512F.PermuteVar16x32(s, p67), acc1);
        }
        // Tail: 2, 4 or 6 blocks, a pair at a time.
        for (; b < blocks; b += 2)
        {
            Vector512<float> s = Vector512.Create(Vector256.Create(dw[b] * dx[b]), Vector256.Create(dw[b + 1] * dx[b + 1]));
            acc0 = Avx512F.FusedMultiplyAdd(Vector512.ConvertToSingle(Blocks512(w + b * 32, x + b * 32)), s, acc0);
        }
        return Vector512.Sum(acc0 + acc1);
    }

    /// <summary>Indices for vpermps: lanes 0–7 take element <paramref name="low"/>, lanes 8–15 element <paramref name="high"/>.</summary>
    internal static Vector512<int> Pair(int low, int high) => Vector512.Create(Vector256.Create(low), Vector256.Create(high));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Blocks512(sbyte* w, sbyte* x)
    {
        Vector512<sbyte> wv = Vector512.Load(w), xv = Vector512.Load(x);
        Vector512<sbyte> signedX = Vector512.ConditionalSelect(Vector512.LessThan(wv, Vector512<sbyte>.Zero), Vector512<sbyte>.Zero - xv, xv);
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(wv), signedX), Vector512.Create((short)1));
    }

    /// <summary>SSSE3: a block is two 16-byte halves; their int32 sums are added before the one multiply-add.</summary>
    private static float Dot128(sbyte* w, float* dw, sbyte* x, float* dx, int blocks)
    {
        Vector128<float> acc = Vector128<float>.Zero;
        Vector128<short> ones = Vector128.Create((short)1);
        for (int b = 0; b < blocks; b++)
        {
            Vector128<int> sum = Vector128<int>.Zero;
            for (int h = 0; h < 32; h += 16)
            {
                Vector128<sbyte> wv = Vector128.Load(w + b * 32 + h), xv = Vector128.Load(x + b * 32 + h);
                sum += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(wv), Ssse3.Sign(xv, wv)), ones);
            }
            acc += Vector128.ConvertToSingle(sum) * Vector128.Create(dw[b] * dx[b]);
        }
        return Vector128.Sum(acc);
    }
}
