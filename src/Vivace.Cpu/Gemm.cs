using System.Runtime.CompilerServices;
using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>
/// y[m, n] = act(x[m, k] · Wᵀ + b) over a <see cref="PackedLinearWeight"/>. The output is cut into work items of
/// (a block of rows) × (a group of 32-column panels); items run on the worker pool. Inside an item the K axis is
/// blocked so the item's A block (rows × KBlock) stays in L2 while each packed B slice (KBlock × 32, 32 KB) is
/// streamed once per tile row. Bias enters with the first K block, the activation runs on each finished tile while
/// it is still in L1.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Gemm
{
    /// <summary>K block: A block 96×512×4 = 192 KB and a B slice 64 KB stay in L2 (512 KB–1 MB); fewer C reloads than 256 (measured: ~3% on MiniLM).</summary>
    private const int KBlock = 512;
    /// <summary>Most rows per work item (a multiple of the 8- and 6-row tiles); blocks are evened out below it.</summary>
    private const int RowBlock = 96;
    private const int PanelsPerGroup = 4;

    public static void Run(KernelPath path, WorkerPool? pool, float* x, int m, PackedLinearWeight w, float* y, Activation activation)
    {
        int n = w.OutFeatures, k = w.InFeatures;
        if (m == 0 || n == 0) return;
        int panels = w.PanelCount;
        // Equal row blocks (a whole number of tiles each, at most RowBlock) so no item is a small leftover.
        int tileRows = GemmMicroKernels.TileRows(path);
        int rowBlocks = (m + RowBlock - 1) / RowBlock;
        int rowsPerBlock = ((m + rowBlocks - 1) / rowBlocks + tileRows - 1) / tileRows * tileRows;
        rowBlocks = (m + rowsPerBlock - 1) / rowsPerBlock;
        int threads = pool?.ThreadCount ?? 1;
        // Coarse items keep A and B reuse high; fall back to single panels when that leaves threads idle.
        int panelsPerGroup = rowBlocks * ((panels + PanelsPerGroup - 1) / PanelsPerGroup) >= 4 * threads ? PanelsPerGroup : 1;
        int groups = (panels + panelsPerGroup - 1) / panelsPerGroup;
        var work = new GemmWork
        {
            Path = path, X = x, Y = y, Panels = w.Panels, Bf16Panels = w.Bf16Panels, Bias = w.Bias, M = m, N = n, K = k,
            PanelCount = panels, PanelsPerGroup = panelsPerGroup, Groups = groups, RowsPerBlock = rowsPerBlock, Activation = activation,
        };
        if (pool is null) for (int i = 0; i < rowBlocks * groups; i++) work.Execute(i);
        else pool.For(rowBlocks * groups, work);
        // The work holds raw pointers into w's pinned arrays: without this, w (and its storage) may be collected as soon as
        // the pointers are read, when the caller never touches the weight again (seen as access violations in tests).
        GC.KeepAlive(w);
    }

    private struct GemmWork : IParallelWork
    {
        public KernelPath Path;
        public float* X, Y, Panels, Bias;
        public ushort* Bf16Panels;
        public int M, N, K, PanelCount, PanelsPerGroup, Groups, RowsPerBlock;
        public Activation Activation;

        public readonly void Execute(int index)
        {
            // Locals out of fields: the JIT keeps them in registers across the loops.
            KernelPath path = Path;
            int m = M, n = N, k = K, panelWidth = GemmMicroKernels.PanelWidth, tileRows = GemmMicroKernels.TileRows(path);
            float* x = X, y = Y, panels = Panels, bias = Bias;
            ushort* bf16Panels = Bf16Panels;
            // bf16 weights: each (panel, K block) slice is widened into this thread's scratch (KBlock·32 floats, 64 KB:
            // L2-resident) and the tiles read it from there.
            float* widened = bf16Panels == null ? null : WidenedScratch();
            int rowStart = index / Groups * RowsPerBlock, rowEnd = Math.Min(m, rowStart + RowsPerBlock);
            int panelStart = index % Groups * PanelsPerGroup, panelEnd = Math.Min(PanelCount, panelStart + PanelsPerGroup);
            // One row (batch-1 decode) reads the bf16 panel directly instead, widening in registers.
            bool bf16Direct = bf16Panels != null && rowEnd - rowStart == 1 && GemmMicroKernels.HasBf16OneRow(path);
            // N tail: the last panel's columns past n are computed into this tile and not copied out.
            float* edgeTile = stackalloc float[8 * GemmMicroKernels.PanelWidth];

            if (k == 0)
            {
                int columnStart = panelStart * panelWidth, columnEnd = Math.Min(n, panelEnd * panelWidth);
                FillWithBias(y, bias, rowStart, rowEnd, columnStart, columnEnd, n);
                ActivateRows(path, y + (nint)rowStart * n + columnStart, n, rowEnd - rowStart, columnEnd - columnStart, Activation);
            }
            for (int k0 = 0; k0 < k; k0 += KBlock)
            {
                int kc = Math.Min(KBlock, k - k0);
                bool first = k0 == 0, last = k0 + kc >= k;
                for (int p = panelStart; p < panelEnd; p++)
                {
                    float* b;
                    if (bf16Direct)
                    {
                        ushort* source = bf16Panels + (nint)p * k * panelWidth + (nint)k0 * panelWidth;
                        float* panelBiasDirect = bias == null ? null : bias + p * panelWidth;
                        int column0 = p * panelWidth, columns0 = Math.Min(panelWidth, n - column0);
                        float* c0 = y + (nint)rowStart * n + column0;
                        if (columns0 == panelWidth)
                            GemmMicroKernels.TileBf16OneRow(path, x + (nint)rowStart * k + k0, source, kc, c0, panelBiasDirect, accumulate: !first);
                        else
                        {
                            if (!first) CopyColumns(c0, n, edgeTile, panelWidth, 1, columns0);
                            GemmMicroKernels.TileBf16OneRow(path, x + (nint)rowStart * k + k0, source, kc, edgeTile, panelBiasDirect, accumulate: !first);
                            CopyColumns(edgeTile, panelWidth, c0, n, 1, columns0);
                        }
                        if (last) ActivateRows(path, c0, n, 1, columns0, Activation);
                        continue;
                    }
                    if (widened == null) b = panels + (nint)p * k * panelWidth + (nint)k0 * panelWidth;
                    else
                    {
                        Bf16Widening.Widen(path, bf16Panels + (nint)p * k * panelWidth + (nint)k0 * panelWidth, widened, kc * panelWidth);
                        b = widened;
                    }
                    float* panelBias = bias == null ? null : bias + p * panelWidth;
                    int column = p * panelWidth, columns = Math.Min(panelWidth, n - column);
                    for (int r = rowStart; r < rowEnd; r += tileRows)
                    {
                        int rows = Math.Min(tileRows, rowEnd - r);
                        float* a = x + (nint)r * k + k0;
                        float* c = y + (nint)r * n + column;
                        if (columns == panelWidth)
                        {
                            GemmMicroKernels.Tile(path, a, k, b, kc, c, n, rows, panelBias, accumulate: !first);
                        }
                        else
                        {
                            if (!first) CopyColumns(c, n, edgeTile, panelWidth, rows, columns);
                            GemmMicroKernels.Tile(path, a, k, b, kc, edgeTile, panelWidth, rows, panelBias, accumulate: !first);
                            CopyColumns(edgeTile, panelWidth, c, n, rows, columns);
                        }
                        // The tile's final values are in L1 now: activate them there (measured ~20% less activation time
                        // than a pass over the whole item afterwards).
                        if (last) ActivateRows(path, c, n, rows, columns, Activation);
                    }
                }
            }
        }

        [ThreadStatic] private static float[]? t_widened;

        /// <summary>This thread's pinned scratch for one widened panel slice (its array stays referenced by the thread).</summary>
        private static float* WidenedScratch()
        {
            t_widened ??= GC.AllocateArray<float>(KBlock * GemmMicroKernels.PanelWidth, pinned: true);
            return (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref t_widened[0]);
        }

        private static void ActivateRows(KernelPath path, float* c, nint ldc, int rows, int columns, Activation activation)
        {
            if (activation == Activation.None) return;
            for (int r = 0; r < rows; r++) Elementwise.Activate(path, c + r * ldc, columns, activation);
        }

        private static void CopyColumns(float* src, nint srcStride, float* dst, nint dstStride, int rows, int columns)
        {
            for (int r = 0; r < rows; r++)
                new ReadOnlySpan<float>(src + r * srcStride, columns).CopyTo(new Span<float>(dst + r * dstStride, columns));
        }

        private static void FillWithBias(float* y, float* bias, int rowStart, int rowEnd, int columnStart, int columnEnd, int n)
        {
            for (int r = rowStart; r < rowEnd; r++)
                for (int j = columnStart; j < columnEnd; j++)
                    y[(nint)r * n + j] = bias == null ? 0f : bias[j];
        }
    }
}
