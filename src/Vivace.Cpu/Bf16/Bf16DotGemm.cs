using System.Runtime.CompilerServices;
using Vivace.Cpu.Jit;
using Vivace.Tensors;

namespace Vivace.Cpu.Bf16;

/// <summary>
/// y = x · Wᵀ + b on AVX512-BF16: x rounded to bf16 per row (nearest even) into packed row blocks, then the emitted
/// kernel per (block, 32-column panel), f32 accumulation; bias added as the tile is copied out. The loop is
/// <see cref="PanelDotGemm"/>'s. The emitted kernel runs where the CPU has AVX512-BF16; elsewhere (tests) its managed
/// equivalent.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Bf16DotGemm
{
    private const int Columns = Bf16MicroKernel.Columns;

    [ThreadStatic] private static ushort[]? t_rows;

    public static void Run(WorkerPool? pool, float* x, int m, Bf16DotLinearWeight w, float* y)
    {
        if (m == 0 || w.OutFeatures == 0) return;
        fixed (ushort* packed = w.Packed)
        fixed (float* bias = w.Bias)
        {
            var kind = new Kind
            {
                X = x, Packed = packed, Bias = bias, Y = y, N = w.OutFeatures, K = w.InFeatures, PaddedK = w.PaddedK,
                PanelElements = w.PanelElements, Emitted = Bf16MicroKernel.IsSupported,
            };
            PanelDotGemm.Run(pool, m, w.Panels, w.PaddedK / Bf16MicroKernel.KGroup, kind);
        }
    }

    private struct Kind : IPanelDotKind
    {
        public float* X, Bias, Y;
        public ushort* Packed;
        public int N, K, PaddedK, PanelElements;
        public bool Emitted;

        /// <summary>Rounds the rows into a row-major scratch (an odd k's pad is a zero, which adds nothing), then
        /// interleaves them into the block.</summary>
        public readonly void PackBlock(int row0, int rows, byte* block)
        {
            int kp = PaddedK;
            ushort[] scratch = t_rows is { } s && s.Length >= rows * kp ? s : (t_rows = new ushort[PanelDotGemm.BlockRows * kp]);
            fixed (ushort* rounded = scratch)
            {
                for (int r = 0; r < rows; r++)
                {
                    ushort* target = rounded + r * kp;
                    Bf16Rounding.Round(X + (long)(row0 + r) * K, target, K);
                    if (kp > K) target[K] = 0;
                }
                PanelDotEmitter.PackRowBlock((byte*)rounded, kp * sizeof(ushort), rows, kp / Bf16MicroKernel.KGroup, block);
            }
        }

        public readonly void Tile(int row0, int rows, byte* block, int panel, void* tile)
        {
            ushort* b = Packed + (long)panel * PanelElements;
            if (Emitted) Bf16MicroKernel.Run(rows, (ushort*)block, b, (float*)tile, Columns, PaddedK);
            else Bf16MicroKernel.RunManaged(rows, (ushort*)block, b, (float*)tile, Columns, PaddedK);
        }

        public readonly void Store(int row0, int rows, int panel, void* tile)
        {
            int column = panel * Columns, columns = Math.Min(Columns, N - column);
            for (int r = 0; r < rows; r++)
            {
                float* target = Y + (long)(row0 + r) * N + column, source = (float*)tile + r * Columns;
                for (int j = 0; j < columns; j++) target[j] = source[j] + Bias[column + j];
            }
        }
    }
}
