using System.Runtime.CompilerServices;
using Vivace.Tensors;

namespace Vivace.Cpu.Quantized;

/// <summary>
/// A ggml Q8_0 / Q4_0 linear layer repacked for <see cref="BlockGemm"/>. Per output row: the block scales as f32 (exact:
/// every fp16 is an f32) in their own array, so the kernels load several at once and the quants stay 32-byte aligned;
/// the quants with the row's blocks padded to an even count (a padding block has scale 0 and quants 0, so it adds 0):
/// <list type="bullet">
/// <item>Q8_0: 32 int8 per block, as ggml stores them.</item>
/// <item>Q4_0: the unsigned nibbles q (value = d·(q − 8)) of blocks 2p and 2p+1 share 32 bytes: byte i holds value i of
/// block 2p in its low nibble and value i of block 2p+1 in its high one. One 32-byte load then gives both blocks with
/// one AND and one shift (ggml's layout needs a 16-byte load, a shift and an insert per block).</item>
/// </list>
/// Storage is pinned and 64-byte aligned, so kernels hold raw pointers without fixing (see <see cref="Quants"/>).
/// </summary>
public sealed unsafe class BlockLinearWeight : ILinearWeight
{
    private const int Alignment = 64;
    private readonly byte[] _quantStorage;
    private readonly int _quantOffset;

    public BlockLinearWeight(QuantizedMatrix weight, ReadOnlySpan<float> bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        Format = weight.Format;
        OutFeatures = weight.Rows;
        InFeatures = weight.Columns;
        Name = weight.Name;
        Blocks = InFeatures / BlockQuantization.BlockSize;
        PaddedBlocks = (Blocks + 1) & ~1;
        RowQuantBytes = PaddedBlocks * (Format == BlockFormat.Q8_0 ? 32 : 16);
        long total = (long)OutFeatures * RowQuantBytes;
        _quantStorage = GC.AllocateArray<byte>(checked((int)total + Alignment), pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref _quantStorage[0]);
        _quantOffset = (int)((Alignment - address % Alignment) % Alignment);
        Scales = GC.AllocateArray<float>(Math.Max(1, OutFeatures * PaddedBlocks), pinned: true);
        Bias = GC.AllocateArray<float>(Math.Max(1, OutFeatures), pinned: true);
        HasBias = !bias.IsEmpty;
        bias.CopyTo(Bias);

        int size = Format.BytesPerBlock(), rowBytes = weight.RowBytes;
        Span<byte> quants = _quantStorage.AsSpan(_quantOffset, (int)total);
        for (int n = 0; n < OutFeatures; n++)
        {
            ReadOnlySpan<byte> source = weight.Data.AsSpan(n * rowBytes, rowBytes);
            Span<byte> target = quants.Slice(n * RowQuantBytes, RowQuantBytes);
            for (int b = 0; b < Blocks; b++)
            {
                ReadOnlySpan<byte> block = source.Slice(b * size, size);
                Scales[n * PaddedBlocks + b] = (float)BitConverter.UInt16BitsToHalf((ushort)(block[0] | block[1] << 8));
                if (Format == BlockFormat.Q8_0)
                {
                    block.Slice(2, 32).CopyTo(target.Slice(b * 32, 32));
                    continue;
                }
                // ggml: byte j = value j (low nibble) | value j+16 (high nibble). Here: byte i of the pair = block 2p's
                // value i in the low nibble (b even) or block 2p+1's in the high nibble (b odd).
                Span<byte> pair = target.Slice(b / 2 * 32, 32);
                int shift = (b & 1) * 4;
                for (int j = 0; j < 16; j++)
                {
                    pair[j] |= (byte)((block[2 + j] & 0x0F) << shift);
                    pair[j + 16] |= (byte)((block[2 + j] >> 4) << shift);
                }
            }
        }
    }

    public BlockFormat Format { get; }
    public int InFeatures { get; }
    public int OutFeatures { get; }
    public string? Name { get; }
    /// <summary>Blocks of 32 values in a row (InFeatures / 32).</summary>
    public int Blocks { get; }
    /// <summary><see cref="Blocks"/> rounded up to even: blocks a row holds here.</summary>
    internal int PaddedBlocks { get; }
    /// <summary>Bytes of quants a row takes (PaddedBlocks·32 for Q8_0, ·16 for Q4_0).</summary>
    internal int RowQuantBytes { get; }
    /// <summary>Row n's quants start at <c>Quants + n·RowQuantBytes</c>.</summary>
    internal byte* Quants => (byte*)Unsafe.AsPointer(ref _quantStorage[_quantOffset]);
    /// <summary>[OutFeatures, PaddedBlocks] block scales, 0 for padding blocks. Pinned.</summary>
    internal float[] Scales { get; }
    /// <summary>[OutFeatures], zeros without a bias. Pinned.</summary>
    internal float[] Bias { get; }
    internal bool HasBias { get; }
}
