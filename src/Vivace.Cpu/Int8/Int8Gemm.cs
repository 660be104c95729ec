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
        // Per row and weight group (one group where the weight has a scale per channel): the activations' scale and zero point.
        float[] scales = ArrayPool<float>.Shared.Rent(m * w.Groups);
        int[] zeros = ArrayPool<int>.Shared.Rent(m * w.Groups);
        fixed (float* xs = scales)
        fixed (int* xz = zeros)
        fixed (sbyte* packed = w.Packed)
        fixed (float* ws = w.Scales)
        fixed (int* sums = w.ColumnSums)
        fixed (float* bias = w.Bias)
        fixed (float* groupScales = w.GroupScales)
        fixed (float* groupCorrection = w.GroupCorrection)
        {
            var kind = new Kind
            {
                X = x, XScales = xs, XZeros = xz, Packed = packed, WScales = ws, Sums = sums, Bias = bias, Y = y,
                N = n, K = w.InFeatures, PaddedK = w.PaddedK, PanelBytes = w.PanelBytes, Emitted = useEmitted,
                GroupSize = w.GroupSize, Groups = w.Groups, GroupScales = groupScales, GroupCorrection = groupCorrection,
                PaddedColumns = w.Panels * Columns,
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
                // The CPU's own vminps/vmaxps (.NET's IEEE Min/Max take several instructions each); a NaN row gets
                // scale 1 and garbage either way (max > min fails for NaN).
                minV = Vector512.MinNative(minV, v);
                maxV = Vector512.MaxNative(maxV, v);
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
                Vector512<float> v = Vector512.MinNative(hi, Vector512.MaxNative(lo, Vector512.Round(Vector512.Load(row + i) * invV) + zeroV));
                Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32Native(v)).Store(q + i); // in [0, 255]: no saturation needed
            }
        }
        for (; i < k; i++) q[i] = (byte)Math.Clamp(MathF.Round(row[i] * inv, MidpointRounding.ToEven) + zero, 0f, 255f);
        return (scale, zero);
    }

    private struct Kind : IPanelDotKind
    {
        public float* X, XScales, WScales, Bias, Y, GroupScales, GroupCorrection;
        public sbyte* Packed;
        public int* Sums, XZeros;
        public int N, K, PaddedK, PanelBytes, GroupSize, Groups, PaddedColumns;
        public bool Emitted;

        /// <summary>Quantizes the rows into a row-major scratch — per weight group, each with its own scale and zero point,
        /// where the weight has groups — (k padded with the last zero point, which meets zero weights anyway), then
        /// interleaves them into the block.</summary>
        public readonly void PackBlock(int row0, int rows, byte* block)
        {
            int kp = PaddedK, size = GroupSize == 0 ? K : GroupSize;
            byte[] scratch = t_rows is { } s && s.Length >= rows * kp ? s : (t_rows = new byte[PanelDotGemm.BlockRows * kp]);
            fixed (byte* q = scratch)
            {
                for (int r = 0; r < rows; r++)
                {
                    int zero = 0;
                    for (int g = 0; g < Groups; g++)
                    {
                        int first = g * size, count = Math.Min(size, K - first);
                        (float scale, zero) = QuantizeRow(X + (long)(row0 + r) * K + first, count, q + r * kp + first);
                        XScales[(row0 + r) * Groups + g] = scale;
                        XZeros[(row0 + r) * Groups + g] = zero;
                    }
                    new Span<byte>(q + r * kp + K, kp - K).Fill((byte)zero);
                }
                PanelDotEmitter.PackRowBlock(q, kp, rows, kp / VnniMicroKernel.KGroup, block);
            }
        }

        public readonly void Tile(int row0, int rows, byte* block, int panel, void* tile)
        {
            sbyte* b = Packed + (long)panel * PanelBytes;
            if (GroupSize == 0)
            {
                Kernel(rows, block, b, (int*)tile, PaddedK);
                return;
            }
            // Group by group: the kernel's integers for the group's k (block and panel advance by its k-groups), then
            // sums[r, c] += s_x[r, g] · (s_w[g, c] · integers[r, c] − z[r, g] · s_w[g, c] · Σw_g[c]) in f32, kept in the
            // tile's second plane.
            int* integers = (int*)tile;
            float* sums = (float*)tile + PanelDotGemm.BlockRows * Columns;
            new Span<float>(sums, rows * Columns).Clear();
            for (int g = 0; g < Groups; g++)
            {
                int first = g * GroupSize, k = Math.Min(GroupSize, PaddedK - first), kGroups = first / VnniMicroKernel.KGroup;
                Kernel(rows, block + (long)kGroups * rows * VnniMicroKernel.KGroup, b + (long)kGroups * VnniMicroKernel.PanelBytesPerGroup, integers, k);
                float* scales = GroupScales + (long)g * PaddedColumns + panel * Columns;
                float* correction = GroupCorrection + (long)g * PaddedColumns + panel * Columns;
                for (int r = 0; r < rows; r++)
                {
                    float xs = XScales[(row0 + r) * Groups + g], zero = XZeros[(row0 + r) * Groups + g];
                    float* sr = sums + r * Columns;
                    int* ir = integers + r * Columns;
                    int c = 0;
                    // 16 or 8 lanes at a time, the same multiplies and adds in the same order as the scalar tail.
                    if (Vector512.IsHardwareAccelerated)
                    {
                        var xsV = Vector512.Create(xs);
                        var zeroV = Vector512.Create(zero);
                        for (; c < Columns; c += 16)
                        {
                            Vector512<float> term = Vector512.Load(scales + c) * Vector512.ConvertToSingle(Vector512.Load(ir + c)) - zeroV * Vector512.Load(correction + c);
                            (Vector512.Load(sr + c) + xsV * term).Store(sr + c);
                        }
                    }
                    else if (Vector256.IsHardwareAccelerated)
                    {
                        var xsV = Vector256.Create(xs);
                        var zeroV = Vector256.Create(zero);
                        for (; c < Columns; c += 8)
                        {
                            Vector256<float> term = Vector256.Load(scales + c) * Vector256.ConvertToSingle(Vector256.Load(ir + c)) - zeroV * Vector256.Load(correction + c);
                            (Vector256.Load(sr + c) + xsV * term).Store(sr + c);
                        }
                    }
                    for (; c < Columns; c++) sr[c] += xs * (scales[c] * ir[c] - zero * correction[c]);
                }
            }
        }

        private readonly void Kernel(int rows, byte* block, sbyte* panel, int* tile, int k)
        {
            if (Emitted) VnniMicroKernel.Run(rows, block, panel, tile, Columns, k);
            else VnniMicroKernel.RunManaged(rows, block, panel, tile, Columns, k);
        }

        /// <summary>Dequantizes into y: only the real columns. A whole panel goes 16 lanes at a time with the same
        /// operations, in the same order, as the scalar columns of a partial one.</summary>
        public readonly void Store(int row0, int rows, int panel, void* tile)
        {
            int first = panel * Columns, cols = Math.Min(Columns, N - first);
            if (GroupSize != 0)
            {
                float* sums = (float*)tile + PanelDotGemm.BlockRows * Columns;
                for (int r = 0; r < rows; r++)
                {
                    float* yr = Y + (long)(row0 + r) * N + first, sr = sums + r * Columns;
                    for (int c = 0; c < cols; c++) yr[c] = sr[c] + Bias[first + c];
                }
                return;
            }
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
