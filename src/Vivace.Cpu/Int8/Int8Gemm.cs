using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Vivace.Cpu.Jit;

namespace Vivace.Cpu.Int8;

/// <summary>
/// y = x · Wᵀ + b with W int8 (<see cref="Int8LinearWeight"/>) and x quantized per row on the fly: symmetric, scale =
/// max|x_row| / 127, stored as unsigned bytes q + 128 (vpdpbusd multiplies unsigned by signed bytes). Integer dot
/// products accumulate in int32; y = scale_x · scale_w · (acc − 128·Σw) + b. Rows go in blocks of 4 (padded with the
/// zero value 128), columns in 32-wide panels; items (row block × panel) are spread over the worker pool. The emitted
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
        // Quantized activations [blocks·4, kp] (padding rows and k past the end hold 128: zero) and per-row scales.
        byte[] quantized = ArrayPool<byte>.Shared.Rent(blocks * Rows * kp);
        float[] scales = ArrayPool<float>.Shared.Rent(blocks * Rows);
        quantized.AsSpan(0, blocks * Rows * kp).Fill(128);
        fixed (byte* q = quantized)
            for (int r = 0; r < m; r++) scales[r] = QuantizeRow(x + (long)r * k, k, q + (long)r * kp);
        fixed (byte* a = quantized)
        fixed (float* xs = scales)
        fixed (sbyte* packed = w.Packed)
        fixed (float* ws = w.Scales)
        fixed (int* sums = w.ColumnSums)
        fixed (float* bias = w.Bias)
        {
            var work = new Work
            {
                A = a, XScales = xs, Packed = packed, WScales = ws, Sums = sums, Bias = bias, Y = y,
                M = m, N = n, PaddedK = kp, PanelBytes = w.PanelBytes, Panels = w.Panels, Emitted = useEmitted,
            };
            int items = blocks * w.Panels;
            if (pool is null || items == 1) for (int i = 0; i < items; i++) work.Execute(i);
            else pool.For(items, work);
        }
        ArrayPool<byte>.Shared.Return(quantized);
        ArrayPool<float>.Shared.Return(scales);
    }

    /// <summary>
    /// One row to unsigned bytes round(x / scale) + 128 with scale = max|x| / 127 (1 for an all-zero row); returns the
    /// scale. 16 lanes at a time where AVX-512 is on (the same multiply and round-to-even as the scalar tail, so the
    /// bytes do not depend on the path).
    /// </summary>
    private static float QuantizeRow(float* row, int k, byte* q)
    {
        int i = 0;
        float max = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            var maxV = Vector512<float>.Zero;
            for (; i <= k - 16; i += 16) maxV = Vector512.Max(maxV, Vector512.Abs(Vector512.Load(row + i)));
            for (int lane = 0; lane < 16; lane++) max = MathF.Max(max, maxV.GetElement(lane));
        }
        for (; i < k; i++) max = MathF.Max(max, MathF.Abs(row[i]));
        float scale = max > 0 ? max / 127f : 1f, inv = 1f / scale;
        i = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            Vector512<float> invV = Vector512.Create(inv), lo = Vector512.Create(-127f), hi = Vector512.Create(127f);
            Vector512<int> offset = Vector512.Create(128);
            for (; i <= k - 16; i += 16)
            {
                Vector512<float> v = Vector512.Min(Vector512.Max(Vector512.Round(Vector512.Load(row + i) * invV), lo), hi);
                Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32(v) + offset).Store(q + i);
            }
        }
        for (; i < k; i++) q[i] = (byte)(Math.Clamp((int)MathF.Round(row[i] * inv, MidpointRounding.ToEven), -127, 127) + 128);
        return scale;
    }

    private struct Work : IParallelWork
    {
        public byte* A;
        public float* XScales, WScales, Bias, Y;
        public sbyte* Packed;
        public int* Sums;
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
                float* yr = Y + (long)row * N + first;
                int* acc = tile + r * Columns;
                int c = 0;
                if (cols == Columns && Vector512.IsHardwareAccelerated)
                {
                    var xsV = Vector512.Create(xs);
                    var offset = Vector512.Create(128);
                    for (; c < Columns; c += 16)
                    {
                        Vector512<float> integer = Vector512.ConvertToSingle(Vector512.Load(acc + c) - offset * Vector512.Load(Sums + first + c));
                        (xsV * Vector512.Load(WScales + first + c) * integer + Vector512.Load(Bias + first + c)).Store(yr + c);
                    }
                }
                for (; c < cols; c++)
                    yr[c] = xs * WScales[first + c] * (float)(acc[c] - 128 * Sums[first + c]) + Bias[first + c];
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
