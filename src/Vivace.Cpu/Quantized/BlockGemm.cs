using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Vivace.Tensors;

namespace Vivace.Cpu.Quantized;

/// <summary>
/// y[M, N] = x[M, K] · Wᵀ + b for a <see cref="BlockLinearWeight"/>, as llama.cpp does it: every activation row is
/// quantized to Q8_0 once, then each output is a block-by-block integer dot product scaled in f32.
/// Decoding (M = 1..8) is bound by streaming the weight, so the loop keeps each weight row in L1 while all M activation
/// rows pass over it (output rows outer, activation rows inner), and the threads split the output rows in chunks.
/// </summary>
[SkipLocalsInit]
internal static unsafe class BlockGemm
{
    /// <summary>Output rows of a chunk are a multiple of this: 16 f32 outputs are one 64-byte line, so two threads never write one line.</summary>
    private const int ChunkQuantum = 16;

    public static void Run(KernelPath path, WorkerPool? pool, float* x, int m, BlockLinearWeight w, float* y)
    {
        int n = w.OutFeatures;
        if (m == 0 || n == 0) return;
        int blocks = w.Blocks, padded = w.PaddedBlocks;
        bool q4 = w.Format == BlockFormat.Q4_0;
        // Scratch from the shared pools: after the first calls, a call rents and returns without allocating.
        sbyte[] quants = ArrayPool<sbyte>.Shared.Rent(m * padded * 32);
        float[] scales = ArrayPool<float>.Shared.Rent(m * padded * 2);
        try
        {
            fixed (sbyte* xq = quants)
            fixed (float* xs = scales)
            fixed (float* dw = w.Scales)
            fixed (float* bias = w.Bias)
            {
                // Per activation row r: quants at xq + r·padded·32, scales at xd + r·padded, Q4 corrections at xc + r·padded.
                float* xd = xs, xc = xs + m * padded;
                for (int r = 0; r < m; r++)
                {
                    sbyte* q = xq + (long)r * padded * 32;
                    ActivationQuantizer.QuantizeRow(path, x + (long)r * w.InFeatures, blocks, q, xd + r * padded, q4 ? xc + r * padded : null);
                    if (padded != blocks)
                    {
                        // The padding block: quants and scale 0, so it adds 0 whatever the weight holds there.
                        new Span<sbyte>(q + blocks * 32, 32).Clear();
                        xd[r * padded + blocks] = 0;
                        xc[r * padded + blocks] = 0;
                    }
                }
                int threads = pool?.ThreadCount ?? 1;
                // Several chunks a thread, so uneven progress balances through the pool's counter.
                int chunk = Math.Max(ChunkQuantum, (n / (threads * 8) + ChunkQuantum - 1) / ChunkQuantum * ChunkQuantum);
                var work = new Work
                {
                    Path = path, Q4 = q4, Weights = w.Quants, RowBytes = w.RowQuantBytes, WScales = dw, Bias = bias,
                    X = xq, XScales = xd, XCorrections = xc, M = m, N = n, Blocks = padded, Chunk = chunk, Y = y,
                };
                int items = (n + chunk - 1) / chunk;
                if (pool is null || items == 1) for (int i = 0; i < items; i++) work.Execute(i);
                else pool.For(items, work);
            }
        }
        finally
        {
            ArrayPool<sbyte>.Shared.Return(quants);
            ArrayPool<float>.Shared.Return(scales);
        }
        GC.KeepAlive(w); // the workers read its pinned quants through a raw pointer
    }

    private struct Work : IParallelWork
    {
        public KernelPath Path;
        public bool Q4;
        public byte* Weights;
        public float* WScales, Bias, XScales, XCorrections, Y;
        public sbyte* X;
        public int RowBytes, M, N, Blocks, Chunk;

        public readonly void Execute(int index)
        {
            int first = index * Chunk, last = Math.Min(N, first + Chunk);
            for (int o = first; o < last; o++)
            {
                byte* wq = Weights + (long)o * RowBytes;
                float* dw = WScales + (long)o * Blocks;
                // The weight row (≤ 4.3 KB for K = 4096 in Q8_0) stays in L1 while every activation row passes over it;
                // on AVX2, four rows at a time share the weight's unpacking (same results as one row at a time).
                int r = 0;
                if (M >= BlockTile256.Rows && BlockTile256.IsSupported(Path) && !(Path == KernelPath.Vector512 && Avx512BW.IsSupported))
                {
                    float* tile = stackalloc float[BlockTile256.Rows];
                    for (; r + BlockTile256.Rows <= M; r += BlockTile256.Rows)
                    {
                        sbyte* xq = X + (long)r * Blocks * 32;
                        if (Q4) BlockTile256.Q4(wq, dw, xq, Blocks * 32, XScales + r * Blocks, XCorrections + r * Blocks, Blocks, Blocks, tile);
                        else BlockTile256.Q8((sbyte*)wq, dw, xq, Blocks * 32, XScales + r * Blocks, Blocks, Blocks, tile);
                        for (int t = 0; t < BlockTile256.Rows; t++) Y[(long)(r + t) * N + o] = tile[t] + Bias[o];
                    }
                }
                for (; r < M; r++)
                {
                    sbyte* xq = X + (long)r * Blocks * 32;
                    float* dx = XScales + r * Blocks;
                    float dot = Q4
                        ? BlockDotQ4.Dot(Path, wq, dw, xq, dx, XCorrections + r * Blocks, Blocks)
                        : BlockDotQ8.Dot(Path, (sbyte*)wq, dw, xq, dx, Blocks);
                    Y[(long)r * N + o] = dot + Bias[o];
                }
            }
        }
    }
}
