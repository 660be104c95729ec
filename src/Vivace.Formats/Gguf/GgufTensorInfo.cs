namespace Vivace.Formats.Gguf;

/// <summary>One tensor info of a GGUF file.</summary>
/// <param name="Name">The GGUF tensor name (e.g. <c>blk.0.attn_q.weight</c>).</param>
/// <param name="Dimensions">ggml's <c>ne</c>, fastest-varying first: <c>ne[0]</c> is the row length, so an HF
/// <c>[out, in]</c> matrix is stored with <c>ne = [in, out]</c>.</param>
/// <param name="Type">The ggml type id.</param>
/// <param name="Offset">Byte offset of the data from the start of the data section.</param>
/// <param name="ByteSize">Bytes the data takes (without the padding after it).</param>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long Offset, long ByteSize)
{
    /// <summary>Values in the tensor.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, d) => a * d);

    /// <summary>Length of one row (<c>ne[0]</c>).</summary>
    public long RowLength => Dimensions.Length == 0 ? 1 : Dimensions[0];

    /// <summary>Rows: the product of every dimension but the first.</summary>
    public long RowCount => Dimensions.Length <= 1 ? 1 : ElementCount / Dimensions[0];

    /// <summary>The shape in HF (row-major, slowest first) order: <see cref="Dimensions"/> reversed.</summary>
    public long[] HfShape => [.. Dimensions.Reverse()];

    public override string ToString() => $"{Name} {Type.Name()} ne=[{string.Join(", ", Dimensions)}]";
}
