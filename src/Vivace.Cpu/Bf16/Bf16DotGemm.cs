using System.Buffers;
using System.Runtime.CompilerServices;
using Vivace.Cpu.Jit;
using Vivace.Tensors;

namespace Vivace.Cpu.Bf16;

/// <summary>
/// y = x · Wᵀ + b on AVX512-BF16: x rounded to bf16 per row (nearest even), then the emitted 4×32 kernel per
/// (4-row block, 32-column panel) item, f32 accumulation; bias added as the tile is copied out. Items spread over the
/// worker pool. The emitted kernel runs where the CPU has AVX512-BF16; elsewhere (tests) its managed equivalent.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Bf16DotGemm
{
    private const int Rows = Bf16MicroKernel.Rows, Columns = Bf16MicroKernel.Columns;

    public static void Run(WorkerPool? pool, float* x, int m, Bf16DotLinearWeight w, float* y)
    {
        int n = w.OutFeatures, k = w.InFeatures, kp = w.PaddedK;
        if (m == 0 || n == 0) return;
        int blocks = (m + Rows - 1) / Rows;
        ushort[] a = ArrayPool<ushort>.Shared.Rent(blocks * Rows * kp);
        // Rows past m and the odd-K pad hold zeros, which add nothing.
        a.AsSpan(0, blocks * Rows * kp).Clear();
        for (int r = 0; r < m; r++)
            for (int i = 0; i < k; i++) a[r * kp + i] = NumericConversions.SingleToBFloat16(x[(long)r * k + i]);
        fixed (ushort* pa = a)
        fixed (ushort* packed = w.Packed)
        fixed (float* bias = w.Bias)
        {
            var work = new Work
            {
                A = pa, Packed = packed, Bias = bias, Y = y, M = m, N = n, PaddedK = kp, PanelElements = w.PanelElements, Panels = w.Panels,
                Emitted = Bf16MicroKernel.IsSupported,
            };
            int items = blocks * w.Panels;
            if (pool is null || items == 1) for (int i = 0; i < items; i++) work.Execute(i);
            else pool.For(items, work);
        }
        ArrayPool<ushort>.Shared.Return(a);
    }

    private struct Work : IParallelWork
    {
        public ushort* A, Packed;
        public float* Bias, Y;
        public int M, N, PaddedK, PanelElements, Panels;
        public bool Emitted;

        public readonly void Execute(int index)
        {
            int block = index / Panels, panel = index % Panels;
            float* tile = stackalloc float[Rows * Columns];
            ushort* a = A + (long)block * Rows * PaddedK, b = Packed + (long)panel * PanelElements;
            if (Emitted) Bf16MicroKernel.Run(a, PaddedK, b, tile, Columns, PaddedK);
            else Bf16MicroKernel.RunManaged(a, PaddedK, b, tile, Columns, PaddedK);
            int column = panel * Columns, columns = Math.Min(Columns, N - column);
            for (int r = 0; r < Rows && block * Rows + r < M; r++)
            {
                float* target = Y + (long)(block * Rows + r) * N + column;
                for (int j = 0; j < columns; j++) target[j] = tile[r * Columns + j] + Bias[column + j];
            }
        }
    }
}
