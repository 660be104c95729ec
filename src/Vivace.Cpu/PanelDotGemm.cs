using System.Buffers;
using Vivace.Cpu.Jit;

namespace Vivace.Cpu;

/// <summary>
/// What one dot-product GEMM (<see cref="Int8.Int8Gemm"/>, <see cref="Bf16.Bf16DotGemm"/>) supplies to
/// <see cref="PanelDotGemm"/>: how rows of x become a packed row block, the microkernel on a block and a 32-column
/// panel, and the epilogue that turns a tile of 32-bit lanes into y.
/// </summary>
internal unsafe interface IPanelDotKind
{
    /// <summary>Converts rows <paramref name="row0"/>.. (<paramref name="rows"/> of them) of x into <paramref name="block"/>.</summary>
    void PackBlock(int row0, int rows, byte* block);

    /// <summary>The microkernel: tile[rows × 32] (ldc 32) for one packed block (x's rows from <paramref name="row0"/>) and one panel. The tile has room for
    /// <see cref="PanelDotGemm.TilePlanes"/> such tiles one after another (a kind may keep sums across kernel calls).</summary>
    void Tile(int row0, int rows, byte* block, int panel, void* tile);

    /// <summary>Writes the tile's rows into y (bias, dequantization …) for <paramref name="panel"/>'s real columns.</summary>
    void Store(int row0, int rows, int panel, void* tile);
}

/// <summary>
/// The loop around the emitted dot-product microkernels. First pass (spread over the pool): x's rows go, 12 at a time,
/// into packed row blocks (quantized or rounded on the way). Second pass: items of (up to 8 blocks, one panel), so a
/// panel is loaded into L1 once and multiplied by up to 96 rows while the blocks stay in L2; the tile goes to the
/// kind's epilogue straight from the stack. A matrix's last block has only the rows left (a kernel variant per count).
/// </summary>
internal static unsafe class PanelDotGemm
{
    public const int BlockRows = PanelDotEmitter.MaxRows, ChunkBlocks = 8, TilePlanes = 2;

    /// <param name="groups">k-groups (4 bytes a row) a packed block holds per row: the kind's whole packed row.</param>
    public static void Run<TKind>(WorkerPool? pool, int m, int panels, int groups, TKind kind) where TKind : unmanaged, IPanelDotKind
    {
        if (m == 0 || panels == 0) return;
        int blocks = (m + BlockRows - 1) / BlockRows;
        long blockBytes = (long)BlockRows * groups * PanelDotEmitter.GroupBytes;
        byte[] packed = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, blocks * blockBytes));
        fixed (byte* a = packed)
        {
            var pack = new PackWork<TKind> { Kind = kind, A = a, M = m, BlockBytes = blockBytes };
            For(pool, blocks, pack);
            int chunks = (blocks + ChunkBlocks - 1) / ChunkBlocks;
            var tiles = new TileWork<TKind> { Kind = kind, A = a, M = m, Blocks = blocks, Panels = panels, BlockBytes = blockBytes };
            For(pool, chunks * panels, tiles);
        }
        ArrayPool<byte>.Shared.Return(packed);
    }

    private static void For<TWork>(WorkerPool? pool, int items, in TWork work) where TWork : unmanaged, IParallelWork
    {
        if (pool is null || items == 1) { TWork copy = work; for (int i = 0; i < items; i++) copy.Execute(i); }
        else pool.For(items, work);
    }

    private struct PackWork<TKind> : IParallelWork where TKind : unmanaged, IPanelDotKind
    {
        public TKind Kind;
        public byte* A;
        public int M;
        public long BlockBytes;

        public readonly void Execute(int block)
        {
            int row0 = block * BlockRows;
            Kind.PackBlock(row0, Math.Min(BlockRows, M - row0), A + block * BlockBytes);
        }
    }

    private struct TileWork<TKind> : IParallelWork where TKind : unmanaged, IPanelDotKind
    {
        public TKind Kind;
        public byte* A;
        public int M, Blocks, Panels;
        public long BlockBytes;

        public readonly void Execute(int index)
        {
            // Chunk-major: items taken together share a chunk's blocks (in L2), each brings its own panel once.
            int chunk = index / Panels, panel = index % Panels;
            int* tile = stackalloc int[TilePlanes * BlockRows * PanelDotEmitter.Columns];
            int last = Math.Min(Blocks, (chunk + 1) * ChunkBlocks);
            for (int block = chunk * ChunkBlocks; block < last; block++)
            {
                int row0 = block * BlockRows, rows = Math.Min(BlockRows, M - row0);
                Kind.Tile(row0, rows, A + block * BlockBytes, panel, tile);
                Kind.Store(row0, rows, panel, tile);
            }
        }
    }
}
