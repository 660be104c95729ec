using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Vivace.Cpu.Jit;

namespace Vivace.Cpu.Int8;

/// <summary>
/// y = x · Wᵀ + b with W int8 (<see cref="Int8LinearWeight"/>) and x quantized per row on the fly to unsigned bytes
/// with a scale and zero point z (vpdpbusd multiplies unsigned by signed bytes). Integer dot products accumulate in int32;
/// y = scale_x · scale_w · (acc − z·Σw) + b. The loop is <see cref="PanelDotGemm"/>'s (12-row packed blocks × 32-column
/// panels); the emitted VNNI kernel runs where the CPU has it, elsewhere <see cref="VnniMicroKernel.RunManaged"/>
/// computes the same integers.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Int8Gemm
{
    private const int Columns = VnniMicroKernel.Columns;

    [ThreadStatic] private static byte[]? t_rows;

    public static void Run(WorkerPool? pool, float* x, int m, Int8LinearWeight w, float* y, bool useEmitted)
    {
        int n = w.OutFeatures;
        if (m == 0 || n == 0) return;
        float[] scales = ArrayPool<float>.Shared.Rent(m);
        int[] zeros = ArrayPool<int>.Shared.Rent(m);
        fixed (float* xs = scales)
        fixed (int* xz = zeros)
        fixed (sbyte* packed = w.Packed)
        fixed (float* ws = w.Scales)
        fixed (int* sums = w.ColumnSums)
        fixed (float* bias = w.Bias)
        {
            var kind = new Kind
            {
                X = x, XScales = xs, XZeros = xz, Packed = packed, WScales = ws, Sums = sums, Bias = bias, Y = y,
                N = n, K = w.InFeatures, PaddedK = w.PaddedK, PanelBytes = w.PanelBytes, Emitted = useEmitted,
            };
            PanelDotGemm.Run(pool, m, w.Panels, w.PaddedK / VnniMicroKernel.KGroup, kind);
        }
        ArrayPool<float>.Shared.Return(scales);
        ArrayPool<int>.Shared.Return(zeros);
    }

    /// <summary>
    /// One row to unsigned bytes, asymmetric: scale = (max − min) / 255 over the row's range widened to include 0,
    /// zero point z = round(−min / scale), q = clamp(round(x / scale) + z, 0, 255), so activations skewed to one side
    /// (GELU outputs) use all 256 levels. Returns (scale, z). 16 lanes at a time where AVX-512 is on (the same multiply
    /// and round-to-even as the scalar tail, so the bytes do not depend on the path).
    /// </summary>
    private static (float Scale, int Zero) QuantizeRow(float* row, int k, byte* q)
    {
        int i = 0;
        float min = 0, max = 0;
        bool wide = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
        if (wide)
        {
            Vector512<float> minV = Vector512<float>.Zero, maxV = Vector512<float>.Zero;
            for (; i <= k - 16; i += 16)
            {
                Vector512<float> v = Vector512.Load(row + i);
                minV = Vector512.Min(minV, v);
                maxV = Vector512.Max(maxV, v);
            }
            for (int lane = 0; lane < 16; lane++) { min = MathF.Min(min, minV.GetElement(lane)); max = MathF.Max(max, maxV.GetElement(lane)); }
        }
        for (; i < k; i++) { min = MathF.Min(min, row[i]); max = MathF.Max(max, row[i]); }
        float scale = max > min ? (max - min) / 255f : 1f, inv = 1f / scale;
        int zero = Math.Clamp((int)MathF.Round(-min * inv, MidpointRounding.ToEven), 0, 255);
        i = 0;
        if (wide)
        {
            Vector512<float> invV = Vector512.Create(inv), zeroV = Vector512.Create((float)zero);
            Vector512<float> lo = Vector512<float>.Zero, hi = Vector512.Create(255f);
            for (; i <= k - 16; i += 16)
            {
                Vector512<float> v = Vector512.Min(Vector512.Max(Vector512.Round(Vector512.Load(row + i) * invV) + zeroV, lo), hi);
                Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32(v)).Store(q + i);
            }
        }
        for (; i < k; i++) q[i] = (byte)Math.Clamp(MathF.Round(row[i] * inv, MidpointRounding.ToEven) + zero, 0f, 255f);
        return (scale, zero);
    }

    private struct Kind : IPanelDotKind
    {
        public float* X, XScales, WScales, Bias, Y;
        public sbyte* Packed;
        public int* Sums, XZeros;
        public int N, K, PaddedK, PanelBytes;
        public bool Emitted;

        /// <summary>Quantizes the rows into a row-major scratch (k padded with each row's zero point, which stands for 0
        /// and meets zero weights anyway), then interleaves them into the block.</summary>
        public readonly void PackBlock(int row0, int rows, byte* block)
        {
            int kp = PaddedK;
            byte[] scratch = t_rows is { } s && s.Length >= rows * kp ? s : (t_rows = new byte[PanelDotGemm.BlockRows * kp]);
            fixed (byte* q = scratch)
            {
                for (int r = 0; r < rows; r++)
                {
                    (float scale, int zero) = QuantizeRow(X + (long)(row0 + r) * K, K, q + r * kp);
                    XScales[row0 + r] = scale;
                    XZeros[row0 + r] = zero;
                    new Span<byte>(q + r * kp + K, kp - K).Fill((byte)zero);
                }
                PanelDotEmitter.PackRowBlock(q, kp, rows, kp / VnniMicroKernel.KGroup, block);
            }
        }

        public readonly void Tile(int rows, byte* block, int panel, void* tile)
        {
            sbyte* b = Packed + (long)panel * PanelBytes;
            if (Emitted) VnniMicroKernel.Run(rows, block, b, (int*)tile, Columns, PaddedK);
            else VnniMicroKernel.RunManaged(rows, block, b, (int*)tile, Columns, PaddedK);
        }

        /// <summary>Dequantizes into y: only the real columns. A whole panel goes 16 lanes at a time with the same
        /// operations, in the same order, as the scalar columns of a partial one.</summary>
        public readonly void Store(int row0, int rows, int panel, void* tile)
        {
            int first = panel * Columns, cols = Math.Min(Columns, N - first);
            for (int r = 0; r < rows; r++)
            {
                int row = row0 + r;
                float xs = XScales[row];
                int zero = XZeros[row];
                float* yr = Y + (long)row * N + first;
                int* acc = (int*)tile + r * Columns;
                int c = 0;
                if (cols == Columns && Vector512.IsHardwareAccelerated)
                {
                    var xsV = Vector512.Create(xs);
                    var offset = Vector512.Create(zero);
                    for (; c < Columns; c += 16)
                    {
                        Vector512<float> integer = Vector512.ConvertToSingle(Vector512.Load(acc + c) - offset * Vector512.Load(Sums + first + c));
                        (xsV * Vector512.Load(WScales + first + c) * integer + Vector512.Load(Bias + first + c)).Store(yr + c);
                    }
                }
                for (; c < cols; c++)
                    yr[c] = xs * WScales[first + c] * (float)(acc[c] - zero * Sums[first + c]) + Bias[first + c];
            }
        }
    }
}
