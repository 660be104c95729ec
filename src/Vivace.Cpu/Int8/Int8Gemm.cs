using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Vivace.Cpu.Jit;

namespace Vivace.Cpu.Int8;

/// <summary>
/// y = x · Wᵀ + b with W int8 (<see cref="Int8LinearWeight"/>) and x quantized per row on the fly to unsigned bytes
/// with a scale and zero point z (vpdpbusd multiplies unsigned by signed bytes). Integer dot products accumulate in int32;
/// y = scale_x · scale_w · (acc − z·Σw) + b. Rows go in blocks of 4 (padding rows hold zeros), columns in 32-wide panels; items (row block × panel) are spread over the worker pool. The emitted
/// VNNI kernel runs where the CPU has it; elsewhere <see cref="ManagedTile"/> computes the same integers.
/// </summary>
internal static unsafe class Int8Gemm
{
    private const int Rows = VnniMicroKernel.Rows, Columns = VnniMicroKernel.Columns;

    public static void Run(WorkerPool? pool, float* x, int m, Int8LinearWeight w, float* y, bool useEmitted)
    {
        int n = w.OutFeatures, k = w.InFeatures, kp = w.PaddedK;
        if (m == 0 || n == 0) return;
        int blocks = (m + Rows - 1) / Rows;
        // Quantized activations [blocks·4, kp], per-row scales and zero points.
        byte[] quantized = ArrayPool<byte>.Shared.Rent(blocks * Rows * kp);
        float[] scales = ArrayPool<float>.Shared.Rent(blocks * Rows);
        int[] zeros = ArrayPool<int>.Shared.Rent(blocks * Rows);
        // Padding (rows past m, k past the end) holds each row's zero point, which stands for 0.
        for (int r = 0; r < blocks * Rows; r++)
        {
            (float scale, int zero) = r < m ? QuantizeRowInto(x + (long)r * k, k, quantized.AsSpan(r * kp, kp)) : (1f, 0);
            scales[r] = scale;
            zeros[r] = zero;
            quantized.AsSpan(r * kp + (r < m ? k : 0), r < m ? kp - k : kp).Fill((byte)zero);
        }
        fixed (byte* a = quantized)
        fixed (float* xs = scales)
        fixed (int* xz = zeros)
        fixed (sbyte* packed = w.Packed)
        fixed (float* ws = w.Scales)
        fixed (int* sums = w.ColumnSums)
        fixed (float* bias = w.Bias)
        {
            var work = new Work
            {
                A = a, XScales = xs, XZeros = xz, Packed = packed, WScales = ws, Sums = sums, Bias = bias, Y = y,
                M = m, N = n, PaddedK = kp, PanelBytes = w.PanelBytes, Panels = w.Panels, Emitted = useEmitted,
            };
            int items = blocks * w.Panels;
            if (pool is null || items == 1) for (int i = 0; i < items; i++) work.Execute(i);
            else pool.For(items, work);
        }
        ArrayPool<byte>.Shared.Return(quantized);
        ArrayPool<float>.Shared.Return(scales);
        ArrayPool<int>.Shared.Return(zeros);
    }

    private static (float, int) QuantizeRowInto(float* row, int k, Span<byte> target)
    {
        fixed (byte* q = target) return QuantizeRow(row, k, q);
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

    private struct Work : IParallelWork
    {
        public byte* A;
        public float* XScales, WScales, Bias, Y;
        public sbyte* Packed;
        public int* Sums, XZeros;
        public int M, N, PaddedK, PanelBytes, Panels;
        public bool Emitted;

        public readonly void Execute(int index)
        {
            int block = index / Panels, panel = index % Panels;
            int* tile = stackalloc int[Rows * Columns];
            byte* a = A + (long)block * Rows * PaddedK;
            sbyte* b = Packed + (long)panel * PanelBytes;
            if (Emitted) VnniMicroKernel.Run(a, PaddedK, b, tile, Columns, PaddedK);
            else ManagedTile(a, PaddedK, b, tile, PaddedK);
            // Dequantize into y: only the real rows and columns of this tile. A whole panel goes 16 lanes at a time with
            // the same operations, in the same order, as the scalar columns of a partial one.
            int rows = Math.Min(Rows, M - block * Rows), cols = Math.Min(Columns, N - panel * Columns);
            int first = panel * Columns;
            for (int r = 0; r < rows; r++)
            {
                int row = block * Rows + r;
                float xs = XScales[row];
                int zero = XZeros[row];
                float* yr = Y + (long)row * N + first;
                int* acc = tile + r * Columns;
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

    /// <summary>The microkernel's integers without VNNI: tile[r, c] = Σ a[r, k] (unsigned) · b (signed, panel layout).</summary>
    internal static void ManagedTile(byte* a, int lda, sbyte* panel, int* tile, int k)
    {
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
            {
                int sum = 0;
                for (int g = 0; g < k / VnniMicroKernel.KGroup; g++)
                    for (int i = 0; i < VnniMicroKernel.KGroup; i++)
                        sum += a[r * lda + g * VnniMicroKernel.KGroup + i] * panel[g * VnniMicroKernel.PanelBytesPerGroup + c * VnniMicroKernel.KGroup + i];
                tile[r * Columns + c] = sum;
            }
    }
}
