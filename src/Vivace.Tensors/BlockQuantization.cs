namespace Vivace.Tensors;

/// <summary>
/// Block-quantized weight formats as ggml (llama.cpp, GGUF) defines them: every row is cut into blocks of 32 values,
/// each block storing one fp16 scale <c>d</c> and 32 small integers. Rows are independent, so rows may be sliced,
/// concatenated or permuted byte-wise.
/// </summary>
public enum BlockFormat
{
    /// <summary>ggml Q8_0 (type 8): <c>d</c> fp16 then 32 int8; value = d·q. 34 bytes a block, 8.5 bits a weight.</summary>
    Q8_0,
    /// <summary>
    /// ggml Q4_0 (type 2): <c>d</c> fp16 then 16 bytes of nibbles; byte j holds value j in its low nibble and value j+16
    /// in its high nibble; value = d·(q − 8). 18 bytes a block, 4.5 bits a weight.
    /// </summary>
    Q4_0,
}

/// <summary>The reference quantizers and dequantizers of <see cref="BlockFormat"/>, bit-exact with ggml's <c>*_ref</c> ones.</summary>
public static class BlockQuantization
{
    /// <summary>Values per block in every supported format.</summary>
    public const int BlockSize = 32;

    public static int BytesPerBlock(this BlockFormat format) => format switch
    {
        BlockFormat.Q8_0 => 2 + BlockSize,
        BlockFormat.Q4_0 => 2 + BlockSize / 2,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown block format"),
    };

    /// <summary>Bytes one row of <paramref name="columns"/> values takes (columns must be a multiple of 32).</summary>
    public static int RowBytes(this BlockFormat format, int columns)
    {
        if (columns % BlockSize != 0)
            throw new ArgumentException($"{format} rows need a multiple of {BlockSize} values, got {columns}", nameof(columns));
        return columns / BlockSize * format.BytesPerBlock();
    }

    /// <summary>The ggml type id the format has in GGUF files.</summary>
    public static uint GgmlType(this BlockFormat format) => format switch
    {
        BlockFormat.Q8_0 => 8,
        BlockFormat.Q4_0 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown block format"),
    };

    /// <summary>Quantizes one row (a multiple of 32 values) into <paramref name="blocks"/> (<see cref="RowBytes"/> long).</summary>
    public static void QuantizeRow(BlockFormat format, ReadOnlySpan<float> row, Span<byte> blocks)
    {
        int rowBytes = format.RowBytes(row.Length);
        if (blocks.Length < rowBytes) throw new ArgumentException($"destination holds {blocks.Length} bytes, the row needs {rowBytes}", nameof(blocks));
        int size = format.BytesPerBlock();
        for (int b = 0; b < row.Length / BlockSize; b++)
        {
            ReadOnlySpan<float> x = row.Slice(b * BlockSize, BlockSize);
            Span<byte> block = blocks.Slice(b * size, size);
            if (format == BlockFormat.Q8_0) QuantizeQ8_0(x, block);
            else QuantizeQ4_0(x, block);
        }
    }

    /// <summary>Expands one row of blocks back to <paramref name="row"/>.Length values.</summary>
    public static void DequantizeRow(BlockFormat format, ReadOnlySpan<byte> blocks, Span<float> row)
    {
        int rowBytes = format.RowBytes(row.Length);
        if (blocks.Length < rowBytes) throw new ArgumentException($"source holds {blocks.Length} bytes, the row needs {rowBytes}", nameof(blocks));
        int size = format.BytesPerBlock();
        for (int b = 0; b < row.Length / BlockSize; b++)
        {
            ReadOnlySpan<byte> block = blocks.Slice(b * size, size);
            Span<float> y = row.Slice(b * BlockSize, BlockSize);
            float d = (float)BitConverter.UInt16BitsToHalf((ushort)(block[0] | block[1] << 8));
            if (format == BlockFormat.Q8_0)
            {
                for (int i = 0; i < BlockSize; i++) y[i] = d * (sbyte)block[2 + i];
            }
            else
            {
                for (int j = 0; j < BlockSize / 2; j++)
                {
                    y[j] = d * ((block[2 + j] & 0x0F) - 8);
                    y[j + BlockSize / 2] = d * ((block[2 + j] >> 4) - 8);
                }
            }
        }
    }

    /// <summary>ggml quantize_row_q8_0_ref: d = max|x| / 127, q = round(x / d) (half away from zero).</summary>
    private static void QuantizeQ8_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0;
        for (int i = 0; i < BlockSize; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        WriteScale(block, d);
        for (int i = 0; i < BlockSize; i++) block[2 + i] = (byte)(sbyte)MathF.Round(x[i] * id, MidpointRounding.AwayFromZero);
    }

    /// <summary>ggml quantize_row_q4_0_ref: d = (the value of largest magnitude, sign kept) / −8, q = min(15, trunc(x / d + 8.5)).</summary>
    private static void QuantizeQ4_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0, max = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            if (amax < MathF.Abs(x[i]))
            {
                amax = MathF.Abs(x[i]);
                max = x[i];
            }
        }
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        WriteScale(block, d);
        for (int j = 0; j < BlockSize / 2; j++)
        {
            int q0 = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
            int q1 = Math.Min(15, (int)(sbyte)(x[j + BlockSize / 2] * id + 8.5f));
            block[2 + j] = (byte)(q0 | q1 << 4);
        }
    }

    private static void WriteScale(Span<byte> block, float d)
    {
        ushort bits = BitConverter.HalfToUInt16Bits((Half)d);
        block[0] = (byte)bits;
        block[1] = (byte)(bits >> 8);
    }
}

/// <summary>
/// A <c>[Rows, Columns]</c> matrix (HF Linear layout <c>[out, in]</c>) stored row by row in a <see cref="BlockFormat"/>,
/// as a GGUF file or <c>vivace quantize</c> holds it.
/// </summary>
public sealed class QuantizedMatrix
{
    public QuantizedMatrix(BlockFormat format, int rows, int columns, byte[] data, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must not be negative");
        int rowBytes = format.RowBytes(columns);
        if (data.LongLength != (long)rows * rowBytes)
            throw new ArgumentException($"{format} [{rows}, {columns}] takes {(long)rows * rowBytes} bytes, got {data.LongLength}", nameof(data));
        Format = format;
        Rows = rows;
        Columns = columns;
        Data = data;
        Name = name;
    }

    public BlockFormat Format { get; }
    public int Rows { get; }
    public int Columns { get; }
    /// <summary>Row r's blocks are bytes <c>[r·RowBytes, (r+1)·RowBytes)</c>.</summary>
    public byte[] Data { get; }
    public string? Name { get; }
    public int RowBytes => Format.RowBytes(Columns);

    /// <summary>Quantizes an f32 <c>[rows, columns]</c> tensor with the reference quantizer.</summary>
    public static QuantizedMatrix Quantize(Tensor weight, BlockFormat format)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"only matrices are block-quantized, got {weight.Shape}", nameof(weight));
        int rows = weight.Shape[0], columns = weight.Shape[1], rowBytes = format.RowBytes(columns);
        ReadOnlySpan<float> values = weight.ToF32().AsSpan();
        var data = new byte[(long)rows * rowBytes];
        for (int r = 0; r < rows; r++)
            BlockQuantization.QuantizeRow(format, values.Slice(r * columns, columns), data.AsSpan(r * rowBytes, rowBytes));
        return new QuantizedMatrix(format, rows, columns, data, weight.Name);
    }

    /// <summary>The matrix as f32 values.</summary>
    public Tensor Dequantize()
    {
        var result = Tensor.Zeros(Rows, Columns);
        Span<float> values = result.AsSpan();
        for (int r = 0; r < Rows; r++)
            BlockQuantization.DequantizeRow(Format, Data.AsSpan(r * RowBytes, RowBytes), values.Slice(r * Columns, Columns));
        return Name is null ? result : result.WithName(Name);
    }

    /// <summary>Rows of several matrices of one format and width stacked in order (a fused QKV or gate|up weight).</summary>
    public static QuantizedMatrix ConcatRows(IReadOnlyList<QuantizedMatrix> parts, string? name = null)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to concatenate", nameof(parts));
        BlockFormat format = parts[0].Format;
        int columns = parts[0].Columns;
        foreach (var p in parts)
            if (p.Format != format || p.Columns != columns)
                throw new ArgumentException($"cannot stack {p.Name} ({p.Format} [{p.Rows}, {p.Columns}]) under {format} rows of {columns}", nameof(parts));
        var data = new byte[parts.Sum(p => p.Data.LongLength)];
        long offset = 0;
        foreach (var p in parts)
        {
            p.Data.CopyTo(data, offset);
            offset += p.Data.LongLength;
        }
        return new QuantizedMatrix(format, parts.Sum(p => p.Rows), columns, data, name ?? parts[0].Name);
    }
}
