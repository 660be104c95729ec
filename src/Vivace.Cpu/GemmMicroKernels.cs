using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vivace.Cpu;

/// <summary>
/// Register-blocked micro-kernels: C[rows × 32] (+)= A[rows × kc] · B, where B is one packed panel slice
/// (kc rows of 32 consecutive output columns, see <see cref="PackedLinearWeight"/>). Each lane of an accumulator
/// is one output column; each A element is broadcast to all lanes. The 32 panel columns are covered in chunks of
/// two vectors (one chunk for 512-bit lanes, two for 256, four for 128).
/// Rows past <c>rows</c> (the M tail) reuse the last valid row's pointers: they compute a duplicate that is never
/// stored, which keeps the inner loop free of branches.
/// </summary>
[SkipLocalsInit]
internal static unsafe class GemmMicroKernels
{
    public const int PanelWidth = 32;

    /// <summary>How far ahead in the packed panel (in floats: 16 k-steps, 2 KB) the kernels prefetch.</summary>
    private const int PrefetchDistance = 16 * PanelWidth;

    /// <summary>Farther ahead (64 k-steps, 8 KB) for a single row, where nothing but the stream from memory is waited on.</summary>
    private const int StreamPrefetchDistance = 64 * PanelWidth;

    /// <summary>Both cache lines of one k-step's 32-float panel row (where SSE's prefetch exists).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchPanelRow(float* row)
    {
        if (!Sse.IsSupported) return;
        Sse.Prefetch0(row);
        Sse.Prefetch0(row + 16);
    }

    /// <summary>Rows per tile: 8×2 zmm accumulators fit AVX-512's 32 registers; 6×2 fit the 16 of AVX2/SSE.</summary>
    public static int TileRows(KernelPath path) => path switch
    {
        KernelPath.Vector512 => 8,
        KernelPath.Scalar => 4,
        _ => 6,
    };

    /// <summary>
    /// One tile. <paramref name="accumulate"/>: add to C; otherwise C is overwritten with A·B + bias
    /// (<paramref name="bias"/> may be null: 32 values, padded).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(KernelPath path, float* a, nint lda, float* b, int kc, float* c, nint ldc, int rows, float* bias, bool accumulate) =>
        TileOfShape(path, TileRows(path), a, lda, b, kc, c, ldc, rows, bias, accumulate);

    /// <summary>
    /// Any row blocking on any lane width (<paramref name="tileRows"/> 8 or 6; scalar ignores it). Production uses
    /// <see cref="TileRows"/>; tests also run the 8-row kernel on narrower lanes, so its logic is checked on
    /// machines without AVX-512.
    /// </summary>
    internal static void TileOfShape(KernelPath path, int tileRows, float* a, nint lda, float* b, int kc, float* c, nint ldc, int rows, float* bias, bool accumulate)
    {
        // One or two rows (batch-1/2 decode, M tails): the full-height tiles would compute their duplicate rows too —
        // 6 or 8 times the FMAs a row needs, enough to make a matrix-vector product compute-bound on a shared core.
        if (rows <= 2 && path != KernelPath.Scalar)
        {
            switch (path)
            {
                case KernelPath.Vector512: TileFew<Lanes512, Vector512<float>>(a, lda, b, kc, c, ldc, rows, bias, accumulate); return;
                case KernelPath.Vector256: TileFew<Lanes256, Vector256<float>>(a, lda, b, kc, c, ldc, rows, bias, accumulate); return;
                default: TileFew<Lanes128, Vector128<float>>(a, lda, b, kc, c, ldc, rows, bias, accumulate); return;
            }
        }
        switch (path, tileRows)
        {
            case (KernelPath.Vector512, 8): Tile8<Lanes512, Vector512<float>>(a, lda, b, kc, c, ldc, rows, bias, accumulate); break;
            case (KernelPath.Vector512, _): Tile6<Lanes512, Vector512<float>>(a, lda, b, kc, c, ldc, rows, bias, accumulate); break;
            case (KernelPath.Vector256, 8): Tile8<Lanes256, Vector256<float>>(a, lda, b, kc, c, ldc, rows, bias, accumulate); break;
            case (KernelPath.Vector256, _): Tile6<Lanes256, Vector256<float>>(a, lda, b, kc, c, ldc, rows, bias, accumulate); break;
            case (KernelPath.Vector128, 8): Tile8<Lanes128, Vector128<float>>(a, lda, b, kc, c, ldc, rows, bias, accumulate); break;
            case (KernelPath.Vector128, _): Tile6<Lanes128, Vector128<float>>(a, lda, b, kc, c, ldc, rows, bias, accumulate); break;
            default: TileScalar(a, lda, b, kc, c, ldc, rows, bias, accumulate); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Start<TL, TV>(float* c, float* bias, int biasOffset, bool accumulate) where TL : ISimdLanes<TV> where TV : struct =>
        accumulate ? TL.Load(c) : bias != null ? TL.Load(bias + biasOffset) : default;

    private static void Tile8<TL, TV>(float* a, nint lda, float* b, int kc, float* c, nint ldc, int rows, float* bias, bool accumulate)
        where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        // Row pointers for A and C; tail rows alias the last valid row.
        float* a0 = a, a1 = a + lda * Math.Min(1, rows - 1), a2 = a + lda * Math.Min(2, rows - 1), a3 = a + lda * Math.Min(3, rows - 1);
        float* a4 = a + lda * Math.Min(4, rows - 1), a5 = a + lda * Math.Min(5, rows - 1), a6 = a + lda * Math.Min(6, rows - 1), a7 = a + lda * Math.Min(7, rows - 1);
        for (int chunk = 0; chunk < PanelWidth; chunk += 2 * lanes)
        {
            float* bb = bias == null ? null : bias + chunk;
            float* r0 = c + chunk, r1 = r0 + ldc * Math.Min(1, rows - 1), r2 = r0 + ldc * Math.Min(2, rows - 1), r3 = r0 + ldc * Math.Min(3, rows - 1);
            float* r4 = r0 + ldc * Math.Min(4, rows - 1), r5 = r0 + ldc * Math.Min(5, rows - 1), r6 = r0 + ldc * Math.Min(6, rows - 1), r7 = r0 + ldc * Math.Min(7, rows - 1);
            TV c00 = Start<TL, TV>(r0, bb, 0, accumulate), c01 = Start<TL, TV>(r0 + lanes, bb, lanes, accumulate);
            TV c10 = Start<TL, TV>(r1, bb, 0, accumulate), c11 = Start<TL, TV>(r1 + lanes, bb, lanes, accumulate);
            TV c20 = Start<TL, TV>(r2, bb, 0, accumulate), c21 = Start<TL, TV>(r2 + lanes, bb, lanes, accumulate);
            TV c30 = Start<TL, TV>(r3, bb, 0, accumulate), c31 = Start<TL, TV>(r3 + lanes, bb, lanes, accumulate);
            TV c40 = Start<TL, TV>(r4, bb, 0, accumulate), c41 = Start<TL, TV>(r4 + lanes, bb, lanes, accumulate);
            TV c50 = Start<TL, TV>(r5, bb, 0, accumulate), c51 = Start<TL, TV>(r5 + lanes, bb, lanes, accumulate);
            TV c60 = Start<TL, TV>(r6, bb, 0, accumulate), c61 = Start<TL, TV>(r6 + lanes, bb, lanes, accumulate);
            TV c70 = Start<TL, TV>(r7, bb, 0, accumulate), c71 = Start<TL, TV>(r7 + lanes, bb, lanes, accumulate);
            float* bp = b + chunk;
            for (int k = 0; k < kc; k++, bp += PanelWidth)
            {
                // 2 B loads + 8 broadcasts feed 16 independent FMAs: FMA-bound, and 16 chains hide FMA latency.
                PrefetchPanelRow(bp + PrefetchDistance);
                TV b0 = TL.Load(bp), b1 = TL.Load(bp + lanes);
                TV x = TL.Splat(a0[k]); c00 = TL.MultiplyAdd(x, b0, c00); c01 = TL.MultiplyAdd(x, b1, c01);
                x = TL.Splat(a1[k]); c10 = TL.MultiplyAdd(x, b0, c10); c11 = TL.MultiplyAdd(x, b1, c11);
                x = TL.Splat(a2[k]); c20 = TL.MultiplyAdd(x, b0, c20); c21 = TL.MultiplyAdd(x, b1, c21);
                x = TL.Splat(a3[k]); c30 = TL.MultiplyAdd(x, b0, c30); c31 = TL.MultiplyAdd(x, b1, c31);
                x = TL.Splat(a4[k]); c40 = TL.MultiplyAdd(x, b0, c40); c41 = TL.MultiplyAdd(x, b1, c41);
                x = TL.Splat(a5[k]); c50 = TL.MultiplyAdd(x, b0, c50); c51 = TL.MultiplyAdd(x, b1, c51);
                x = TL.Splat(a6[k]); c60 = TL.MultiplyAdd(x, b0, c60); c61 = TL.MultiplyAdd(x, b1, c61);
                x = TL.Splat(a7[k]); c70 = TL.MultiplyAdd(x, b0, c70); c71 = TL.MultiplyAdd(x, b1, c71);
            }
            TL.Store(r0, c00); TL.Store(r0 + lanes, c01);
            if (rows > 1) { TL.Store(r1, c10); TL.Store(r1 + lanes, c11); }
            if (rows > 2) { TL.Store(r2, c20); TL.Store(r2 + lanes, c21); }
            if (rows > 3) { TL.Store(r3, c30); TL.Store(r3 + lanes, c31); }
            if (rows > 4) { TL.Store(r4, c40); TL.Store(r4 + lanes, c41); }
            if (rows > 5) { TL.Store(r5, c50); TL.Store(r5 + lanes, c51); }
            if (rows > 6) { TL.Store(r6, c60); TL.Store(r6 + lanes, c61); }
            if (rows > 7) { TL.Store(r7, c70); TL.Store(r7 + lanes, c71); }
        }
    }

    /// <summary>Whether <see cref="TileBf16OneRow"/> runs on <paramref name="path"/> (256- and 512-bit lanes).</summary>
    public static bool HasBf16OneRow(KernelPath path) =>
        (path == KernelPath.Vector512 && Avx512F.IsSupported) || (path == KernelPath.Vector256 && Avx2.IsSupported && Fma.IsSupported);

    /// <summary>
    /// One row against a bf16 panel slice read as it is (batch-1 decode: the panel streams from memory once, at half the
    /// bytes): each k-step's 32 values are widened in registers (zero-extend, shift left 16: exact) and used as the f32
    /// tiles use theirs, so the result is bit-identical to widening first. Lanes: 4×8 (AVX2) or 2×16 (AVX-512) columns.
    /// </summary>
    public static void TileBf16OneRow(KernelPath path, float* a, ushort* b, int kc, float* c, float* bias, bool accumulate)
    {
        if (path == KernelPath.Vector512)
        {
            Vector512<float> s0 = accumulate ? Vector512.Load(c) : bias != null ? Vector512.Load(bias) : default;
            Vector512<float> s1 = accumulate ? Vector512.Load(c + 16) : bias != null ? Vector512.Load(bias + 16) : default;
            for (int k = 0; k < kc; k++, b += PanelWidth)
            {
                Sse.Prefetch0(b + StreamPrefetchDistance);
                Vector512<float> x = Vector512.Create(a[k]);
                s0 = Avx512F.FusedMultiplyAdd(x, Vector512.ShiftLeft(Avx512F.ConvertToVector512Int32(Vector256.Load(b)), 16).AsSingle(), s0);
                s1 = Avx512F.FusedMultiplyAdd(x, Vector512.ShiftLeft(Avx512F.ConvertToVector512Int32(Vector256.Load(b + 16)), 16).AsSingle(), s1);
            }
            Vector512.Store(s0, c);
            Vector512.Store(s1, c + 16);
            return;
        }
        Vector256<float> t0 = accumulate ? Vector256.Load(c) : bias != null ? Vector256.Load(bias) : default;
        Vector256<float> t1 = accumulate ? Vector256.Load(c + 8) : bias != null ? Vector256.Load(bias + 8) : default;
        Vector256<float> t2 = accumulate ? Vector256.Load(c + 16) : bias != null ? Vector256.Load(bias + 16) : default;
        Vector256<float> t3 = accumulate ? Vector256.Load(c + 24) : bias != null ? Vector256.Load(bias + 24) : default;
        for (int k = 0; k < kc; k++, b += PanelWidth)
        {
            Sse.Prefetch0(b + StreamPrefetchDistance);
            Vector256<float> x = Vector256.Create(a[k]);
            t0 = Fma.MultiplyAdd(x, Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(Vector128.Load(b)), 16).AsSingle(), t0);
            t1 = Fma.MultiplyAdd(x, Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(Vector128.Load(b + 8)), 16).AsSingle(), t1);
            t2 = Fma.MultiplyAdd(x, Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(Vector128.Load(b + 16)), 16).AsSingle(), t2);
            t3 = Fma.MultiplyAdd(x, Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(Vector128.Load(b + 24)), 16).AsSingle(), t3);
        }
        Vector256.Store(t0, c);
        Vector256.Store(t1, c + 8);
        Vector256.Store(t2, c + 16);
        Vector256.Store(t3, c + 24);
    }

    /// <summary>
    /// One or two rows: the same per-output arithmetic as the full tiles (bias or C first, then one FMA per k in
    /// ascending order), so a row's result does not depend on which tile computed it.
    /// </summary>
    private static void TileFew<TL, TV>(float* a, nint lda, float* b, int kc, float* c, nint ldc, int rows, float* bias, bool accumulate)
        where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        if (rows == 1 && lanes == PanelWidth / 4)
        {
            // 256-bit lanes, one row: the whole 32-column panel row (two cache lines) per k-step in four accumulators, so
            // the panel streams front to back once instead of once per 16-column half.
            TV s0 = Start<TL, TV>(c, bias, 0, accumulate), s1 = Start<TL, TV>(c + lanes, bias, lanes, accumulate);
            TV s2 = Start<TL, TV>(c + 2 * lanes, bias, 2 * lanes, accumulate), s3 = Start<TL, TV>(c + 3 * lanes, bias, 3 * lanes, accumulate);
            float* p = b;
            for (int k = 0; k < kc; k++, p += PanelWidth)
            {
                PrefetchPanelRow(p + StreamPrefetchDistance);
                TV x = TL.Splat(a[k]);
                s0 = TL.MultiplyAdd(x, TL.Load(p), s0);
                s1 = TL.MultiplyAdd(x, TL.Load(p + lanes), s1);
                s2 = TL.MultiplyAdd(x, TL.Load(p + 2 * lanes), s2);
                s3 = TL.MultiplyAdd(x, TL.Load(p + 3 * lanes), s3);
            }
            TL.Store(c, s0); TL.Store(c + lanes, s1); TL.Store(c + 2 * lanes, s2); TL.Store(c + 3 * lanes, s3);
            return;
        }
        float* a0 = a, a1 = a + lda * Math.Min(1, rows - 1);
        for (int chunk = 0; chunk < PanelWidth; chunk += 2 * lanes)
        {
            float* bb = bias == null ? null : bias + chunk;
            float* r0 = c + chunk, r1 = r0 + ldc * Math.Min(1, rows - 1);
            TV c00 = Start<TL, TV>(r0, bb, 0, accumulate), c01 = Start<TL, TV>(r0 + lanes, bb, lanes, accumulate);
            TV c10 = Start<TL, TV>(r1, bb, 0, accumulate), c11 = Start<TL, TV>(r1 + lanes, bb, lanes, accumulate);
            float* bp = b + chunk;
            if (rows == 1)
            {
                for (int k = 0; k < kc; k++, bp += PanelWidth)
                {
                    // Memory-bound: fetch both cache lines of a k-step's panel row ahead (see Tile6).
                    PrefetchPanelRow(bp + PrefetchDistance);
                    TV x = TL.Splat(a0[k]);
                    c00 = TL.MultiplyAdd(x, TL.Load(bp), c00);
                    c01 = TL.MultiplyAdd(x, TL.Load(bp + lanes), c01);
                }
                TL.Store(r0, c00); TL.Store(r0 + lanes, c01);
                continue;
            }
            for (int k = 0; k < kc; k++, bp += PanelWidth)
            {
                PrefetchPanelRow(bp + PrefetchDistance);
                TV b0 = TL.Load(bp), b1 = TL.Load(bp + lanes);
                TV x = TL.Splat(a0[k]); c00 = TL.MultiplyAdd(x, b0, c00); c01 = TL.MultiplyAdd(x, b1, c01);
                x = TL.Splat(a1[k]); c10 = TL.MultiplyAdd(x, b0, c10); c11 = TL.MultiplyAdd(x, b1, c11);
            }
            TL.Store(r0, c00); TL.Store(r0 + lanes, c01);
            TL.Store(r1, c10); TL.Store(r1 + lanes, c11);
        }
    }

    private static void Tile6<TL, TV>(float* a, nint lda, float* b, int kc, float* c, nint ldc, int rows, float* bias, bool accumulate)
        where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        float* a0 = a, a1 = a + lda * Math.Min(1, rows - 1), a2 = a + lda * Math.Min(2, rows - 1);
        float* a3 = a + lda * Math.Min(3, rows - 1), a4 = a + lda * Math.Min(4, rows - 1), a5 = a + lda * Math.Min(5, rows - 1);
        for (int chunk = 0; chunk < PanelWidth; chunk += 2 * lanes)
        {
            float* bb = bias == null ? null : bias + chunk;
            float* r0 = c + chunk, r1 = r0 + ldc * Math.Min(1, rows - 1), r2 = r0 + ldc * Math.Min(2, rows - 1);
            float* r3 = r0 + ldc * Math.Min(3, rows - 1), r4 = r0 + ldc * Math.Min(4, rows - 1), r5 = r0 + ldc * Math.Min(5, rows - 1);
            TV c00 = Start<TL, TV>(r0, bb, 0, accumulate), c01 = Start<TL, TV>(r0 + lanes, bb, lanes, accumulate);
            TV c10 = Start<TL, TV>(r1, bb, 0, accumulate), c11 = Start<TL, TV>(r1 + lanes, bb, lanes, accumulate);
            TV c20 = Start<TL, TV>(r2, bb, 0, accumulate), c21 = Start<TL, TV>(r2 + lanes, bb, lanes, accumulate);
            TV c30 = Start<TL, TV>(r3, bb, 0, accumulate), c31 = Start<TL, TV>(r3 + lanes, bb, lanes, accumulate);
            TV c40 = Start<TL, TV>(r4, bb, 0, accumulate), c41 = Start<TL, TV>(r4 + lanes, bb, lanes, accumulate);
            TV c50 = Start<TL, TV>(r5, bb, 0, accumulate), c51 = Start<TL, TV>(r5 + lanes, bb, lanes, accumulate);
            float* bp = b + chunk;
            for (int k = 0; k < kc; k++, bp += PanelWidth)
            {
                // 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 AVX2/SSE registers.
                // The panel streams from memory when M is small (each weight used by few rows): ask for it ahead.
                // On 256-bit lanes a k-step's 128-byte panel row spans two cache lines and this chunk reads one:
                // fetch both, so the second chunk finds its half in cache.
                PrefetchPanelRow(bp + PrefetchDistance);
                TV b0 = TL.Load(bp), b1 = TL.Load(bp + lanes);
                TV x = TL.Splat(a0[k]); c00 = TL.MultiplyAdd(x, b0, c00); c01 = TL.MultiplyAdd(x, b1, c01);
                x = TL.Splat(a1[k]); c10 = TL.MultiplyAdd(x, b0, c10); c11 = TL.MultiplyAdd(x, b1, c11);
                x = TL.Splat(a2[k]); c20 = TL.MultiplyAdd(x, b0, c20); c21 = TL.MultiplyAdd(x, b1, c21);
                x = TL.Splat(a3[k]); c30 = TL.MultiplyAdd(x, b0, c30); c31 = TL.MultiplyAdd(x, b1, c31);
                x = TL.Splat(a4[k]); c40 = TL.MultiplyAdd(x, b0, c40); c41 = TL.MultiplyAdd(x, b1, c41);
                x = TL.Splat(a5[k]); c50 = TL.MultiplyAdd(x, b0, c50); c51 = TL.MultiplyAdd(x, b1, c51);
            }
            TL.Store(r0, c00); TL.Store(r0 + lanes, c01);
            if (rows > 1) { TL.Store(r1, c10); TL.Store(r1 + lanes, c11); }
            if (rows > 2) { TL.Store(r2, c20); TL.Store(r2 + lanes, c21); }
            if (rows > 3) { TL.Store(r3, c30); TL.Store(r3 + lanes, c31); }
            if (rows > 4) { TL.Store(r4, c40); TL.Store(r4 + lanes, c41); }
            if (rows > 5) { TL.Store(r5, c50); TL.Store(r5 + lanes, c51); }
        }
    }

    /// <summary>The reference path: plain loops, same accumulation order per output (k ascending, bias first).</summary>
    private static void TileScalar(float* a, nint lda, float* b, int kc, float* c, nint ldc, int rows, float* bias, bool accumulate)
    {
        float* acc = stackalloc float[PanelWidth];
        for (int r = 0; r < rows; r++)
        {
            float* cr = c + r * ldc;
            for (int j = 0; j < PanelWidth; j++) acc[j] = accumulate ? cr[j] : bias != null ? bias[j] : 0f;
            float* ar = a + r * lda;
            for (int k = 0; k < kc; k++)
            {
                float x = ar[k];
                float* bk = b + k * PanelWidth;
                for (int j = 0; j < PanelWidth; j++) acc[j] = MathF.FusedMultiplyAdd(x, bk[j], acc[j]);
            }
            for (int j = 0; j < PanelWidth; j++) cr[j] = acc[j];
        }
    }
}
