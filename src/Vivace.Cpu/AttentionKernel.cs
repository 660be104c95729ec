using System.Runtime.CompilerServices;

namespace Vivace.Cpu;

/// <summary>
/// Attention for one (sequence, head): both products run on the GEMM micro-kernel. K's head slice is packed
/// into 32-key panels (the layout of a packed weight, so S = Q·Kᵀ is a small linear layer), each score row gets
/// its softmax, and V's head slice is packed into 32-wide panels of the head dimension for O = P·V. Queries run in
/// blocks of about 64 rows: the scratch holds a block's scores (O(block × length)), not the length×length matrix.
/// </summary>
[SkipLocalsInit]
internal static unsafe class AttentionKernel
{
    private const int PanelWidth = GemmMicroKernels.PanelWidth;

    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>Floats of this thread's scratch (tests: it stays O(block × length)).</summary>
    internal static int ScratchLength => t_scratch?.Length ?? 0;

    /// <summary>One work item: a (sequence, head) pair.</summary>
    internal struct Work : IParallelWork
    {
        public KernelPath Path;
        public float* Q, K, V, O;
        /// <summary>Per sequence: first token, length, and the bias [heads, L, L] (null when none).</summary>
        public int* Starts, Lengths;
        public float** Biases;
        public int Heads, HeadDim;
        /// <summary>Elements between consecutive token rows of Q/K/V (they may be column slices of one packed QKV matrix) and of O.</summary>
        public int InputStride, OutputStride;
        public float Scale;

        public readonly void Execute(int index)
        {
            // Neighbouring items (taken at the same moment by different threads) get heads half the row apart: adjacent
            // heads share a cache line of each output row, and writing it from two cores at once would ping-pong it.
            int sequence = index / Heads, slot = index % Heads, half = (Heads + 1) / 2;
            int head = slot % 2 == 0 ? slot / 2 : half + slot / 2;
            int length = Lengths[sequence];
            if (length == 0) return;
            float* bias = Biases == null || Biases[sequence] == null ? null : Biases[sequence] + (nint)head * length * length;
            nint inputOffset = (nint)Starts[sequence] * InputStride + (nint)head * HeadDim;
            nint outputOffset = (nint)Starts[sequence] * OutputStride + (nint)head * HeadDim;
            Run(Path, Q + inputOffset, K + inputOffset, V + inputOffset, InputStride, O + outputOffset, OutputStride, length, HeadDim, Scale, bias);
        }
    }

    /// <summary>Query rows per block: about 64, a whole number of the micro-kernel's tiles.</summary>
    internal static int QueryBlockRows(KernelPath path)
    {
        int tileRows = GemmMicroKernels.TileRows(path);
        return tileRows * Math.Max(1, 64 / tileRows);
    }

    /// <summary>
    /// q, k, v, o point at the head's first element; rows of q, k, v are <paramref name="stride"/> apart, rows of o
    /// <paramref name="outputStride"/>. Queries go in blocks of <paramref name="blockRows"/> (default
    /// <see cref="QueryBlockRows"/>) so the scores held are a block's rows, never the whole length×length matrix.
    /// </summary>
    public static void Run(KernelPath path, float* q, float* k, float* v, int stride, float* o, int outputStride, int length, int headDim,
        float scale, float* bias, int blockRows = 0)
    {
        int tileRows = GemmMicroKernels.TileRows(path);
        if (blockRows <= 0) blockRows = QueryBlockRows(path);
        // Blocks start on tile boundaries, so every tile (its rows and their count) is the one an unblocked pass would
        // run: each output is the same products summed in the same order, bit for bit.
        blockRows = Math.Min((blockRows + tileRows - 1) / tileRows * tileRows, (length + tileRows - 1) / tileRows * tileRows);
        int keyPanels = (length + PanelWidth - 1) / PanelWidth, dimPanels = (headDim + PanelWidth - 1) / PanelWidth;
        int scoreStride = keyPanels * PanelWidth;
        int keyPackLength = keyPanels * PanelWidth * headDim, valuePackLength = dimPanels * PanelWidth * length;
        int scoreLength = blockRows * scoreStride;
        int needed = keyPackLength + valuePackLength + scoreLength + 8 * PanelWidth;
        float[] scratch = t_scratch is { } s && s.Length >= needed ? s : (t_scratch = GC.AllocateArray<float>(Math.Max(needed, 1 << 16), pinned: true));
        float* keyPack = (float*)Unsafe.AsPointer(ref scratch[0]);
        float* valuePack = keyPack + keyPackLength, scores = valuePack + valuePackLength, edgeTile = scores + scoreLength;

        PackKeys(k, stride, length, headDim, keyPack);
        PackValues(v, stride, length, headDim, valuePack);
        for (int first = 0; first < length; first += blockRows)
        {
            int end = Math.Min(length, first + blockRows);
            // S = Q·Kᵀ for the block's rows: every score row is complete (padding columns hold zeros) before its softmax.
            for (int p = 0; p < keyPanels; p++)
                for (int i = first; i < end; i += tileRows)
                    GemmMicroKernels.Tile(path, q + (nint)i * stride, stride, keyPack + (nint)p * headDim * PanelWidth, headDim,
                        scores + (nint)(i - first) * scoreStride + p * PanelWidth, scoreStride, Math.Min(tileRows, end - i), null, accumulate: false);
            for (int i = first; i < end; i++)
                Softmax.Row(path, scores + (nint)(i - first) * scoreStride, length, scale, bias == null ? null : bias + (nint)i * length);

            // O = P·V over exactly `length` keys; head-dimension tails go through a tile and are copied out.
            for (int p = 0; p < dimPanels; p++)
            {
                int columns = Math.Min(PanelWidth, headDim - p * PanelWidth);
                float* b = valuePack + (nint)p * length * PanelWidth;
                for (int i = first; i < end; i += tileRows)
                {
                    int rows = Math.Min(tileRows, end - i);
                    float* a = scores + (nint)(i - first) * scoreStride;
                    float* c = o + (nint)i * outputStride + p * PanelWidth;
                    if (columns == PanelWidth)
                    {
                        GemmMicroKernels.Tile(path, a, scoreStride, b, length, c, outputStride, rows, null, accumulate: false);
                    }
                    else
                    {
                        GemmMicroKernels.Tile(path, a, scoreStride, b, length, edgeTile, PanelWidth, rows, null, accumulate: false);
                        for (int r = 0; r < rows; r++)
                            new ReadOnlySpan<float>(edgeTile + r * PanelWidth, columns).CopyTo(new Span<float>(c + (nint)r * outputStride, columns));
                    }
                }
            }
        }
    }

    /// <summary>keyPack[panel][d][j] = K[32·panel + j, d], zero for keys past the end.</summary>
    private static void PackKeys(float* k, int stride, int length, int headDim, float* keyPack)
    {
        int panels = (length + PanelWidth - 1) / PanelWidth;
        new Span<float>(keyPack, panels * PanelWidth * headDim).Clear();
        for (int j = 0; j < length; j++)
        {
            float* row = k + (nint)j * stride;
            float* dst = keyPack + (nint)(j / PanelWidth) * headDim * PanelWidth + j % PanelWidth;
            for (int d = 0; d < headDim; d++) dst[d * PanelWidth] = row[d];
        }
    }

    /// <summary>valuePack[panel][j][c] = V[j, 32·panel + c], zero for head columns past the end.</summary>
    private static void PackValues(float* v, int stride, int length, int headDim, float* valuePack)
    {
        int panels = (headDim + PanelWidth - 1) / PanelWidth;
        for (int p = 0; p < panels; p++)
        {
            int columns = Math.Min(PanelWidth, headDim - p * PanelWidth);
            for (int j = 0; j < length; j++)
            {
                float* dst = valuePack + ((nint)p * length + j) * PanelWidth;
                new ReadOnlySpan<float>(v + (nint)j * stride + p * PanelWidth, columns).CopyTo(new Span<float>(dst, columns));
                if (columns < PanelWidth) new Span<float>(dst + columns, PanelWidth - columns).Clear();
            }
        }
    }
}
