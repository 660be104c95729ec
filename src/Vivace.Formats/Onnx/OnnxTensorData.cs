using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Vivace.Tensors;

namespace Vivace.Formats.Onnx;

/// <summary>Decodes an ONNX TensorProto's data (raw_data, typed fields or external data) with full validation.</summary>
internal static class OnnxTensorData
{
    // TensorProto.DataType values.
    public const int Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
        Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, BFloat16 = 16;

    public static StorageKind? KindOf(int dataType) => dataType switch
    {
        Float => StorageKind.F32,
        UInt8 => StorageKind.U8,
        Int8 => StorageKind.I8,
        UInt16 => StorageKind.U16,
        Int16 => StorageKind.I16,
        Int32 => StorageKind.I32,
        Int64 => StorageKind.I64,
        Bool => StorageKind.Bool,
        Float16 => StorageKind.F16,
        Double => StorageKind.F64,
        UInt32 => StorageKind.U32,
        UInt64 => StorageKind.U64,
        BFloat16 => StorageKind.BF16,
        _ => null,
    };

    public static string TypeName(int dataType) => dataType switch
    {
        Float => "FLOAT", UInt8 => "UINT8", Int8 => "INT8", UInt16 => "UINT16", Int16 => "INT16", Int32 => "INT32",
        Int64 => "INT64", String => "STRING", Bool => "BOOL", Float16 => "FLOAT16", Double => "DOUBLE",
        UInt32 => "UINT32", UInt64 => "UINT64", BFloat16 => "BFLOAT16", _ => $"data_type {dataType}",
    };

    /// <summary>The validated shape of a tensor.</summary>
    public static Shape ShapeOf(OnnxTensorProto t, string file)
    {
        if (t.Dims.Count > 16) throw new ModelFormatException(file, t.Name, $"rank {t.Dims.Count} is more than 16");
        var dims = new int[t.Dims.Count];
        long n = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = t.Dims[i];
            if (d < 0) throw new ModelFormatException(file, t.Name, $"dims[{i}] is negative ({d})");
            if (d > int.MaxValue) throw new ModelFormatException(file, t.Name, $"dims[{i}] = {d} exceeds {int.MaxValue}");
            dims[i] = (int)d;
            if (d != 0 && n > int.MaxValue / d)
                throw new ModelFormatException(file, t.Name, $"dims [{string.Join(", ", t.Dims)}] hold more than {int.MaxValue} elements");
            n *= d;
        }
        return new Shape(dims);
    }

    /// <summary>
    /// The tensor's elements in the little-endian encoding of its <see cref="StorageKind"/>, from whichever field
    /// holds them; external data is read from <paramref name="baseDir"/>.
    /// </summary>
    public static (StorageKind Kind, byte[] Bytes, Shape Shape) Read(OnnxTensorProto t, string file, string? baseDir)
    {
        StorageKind kind = KindOf(t.DataType)
            ?? throw new ModelFormatException(file, t.Name, $"unsupported tensor type {TypeName(t.DataType)}");
        if (t.HasSegment) throw new ModelFormatException(file, t.Name, "segmented tensors are not supported");
        Shape shape = ShapeOf(t, file);
        int n = (int)shape.ElementCount;
        long expectedBytes = (long)n * kind.Size();

        if (t.DataLocation == 1 || t.ExternalData.Count > 0)
            return (kind, ReadExternal(t, file, baseDir, expectedBytes), shape);

        if (t.RawData is { } raw)
        {
            if (raw.Length != expectedBytes)
                throw new ModelFormatException(file, t.Name,
                    $"raw_data holds {raw.Length} bytes but dims [{string.Join(", ", t.Dims)}] of {TypeName(t.DataType)} need {expectedBytes}");
            return (kind, raw.ToByteArray(), shape);
        }

        var bytes = new byte[expectedBytes];
        switch (kind)
        {
            case StorageKind.F32:
                Count(t, file, "float_data", t.FloatData.Count, n);
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), t.FloatData[i]);
                break;
            case StorageKind.F64:
                Count(t, file, "double_data", t.DoubleData.Count, n);
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), t.DoubleData[i]);
                break;
            case StorageKind.I64:
                Count(t, file, "int64_data", t.Int64Data.Count, n);
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), t.Int64Data[i]);
                break;
            case StorageKind.U32:
            case StorageKind.U64:
                Count(t, file, "uint64_data", t.UInt64Data.Count, n);
                for (int i = 0; i < n; i++)
                {
                    if (kind == StorageKind.U32) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), (uint)t.UInt64Data[i]);
                    else BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), t.UInt64Data[i]);
                }
                break;
            default:
                // int32_data holds every narrower integer type, bool, and the bit patterns of float16 / bfloat16.
                Count(t, file, "int32_data", t.Int32Data.Count, n);
                int size = kind.Size();
                for (int i = 0; i < n; i++)
                {
                    long v = t.Int32Data[i];
                    if (size == 4) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), (int)v);
                    else if (size == 2) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)v);
                    else bytes[i] = (byte)v;
                }
                break;
        }
        return (kind, bytes, shape);
    }

    private static void Count(OnnxTensorProto t, string file, string field, int count, int expected)
    {
        if (count != expected)
            throw new ModelFormatException(file, t.Name,
                $"{field} holds {count} values but dims [{string.Join(", ", t.Dims)}] need {expected}");
    }

    private static byte[] ReadExternal(OnnxTensorProto t, string file, string? baseDir, long expectedBytes)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (OnnxStringEntry e in t.ExternalData)
        {
            switch (e.Key)
            {
                case "location": location = e.Value; break;
                case "offset":
                    if (!long.TryParse(e.Value, out offset) || offset < 0)
                        throw new ModelFormatException(file, t.Name, $"external_data offset '{e.Value}' is not a non-negative integer");
                    break;
                case "length":
                    if (!long.TryParse(e.Value, out length) || length < 0)
                        throw new ModelFormatException(file, t.Name, $"external_data length '{e.Value}' is not a non-negative integer");
                    break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new ModelFormatException(file, t.Name, "external data without a 'location'");
        if (Path.IsPathRooted(location) || location.Replace('\\', '/').Split('/').Contains(".."))
            throw new ModelFormatException(file, t.Name, $"external data location '{location}' leaves the model directory");
        if (length >= 0 && length != expectedBytes)
            throw new ModelFormatException(file, t.Name, $"external data length {length} but the dims need {expectedBytes} bytes");
        string dir = baseDir ?? Path.GetDirectoryName(Path.GetFullPath(file))!;
        string dataPath = Path.Combine(dir, location);
        try
        {
            using var fs = new FileStream(dataPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (offset > fs.Length || expectedBytes > fs.Length - offset)
                throw new ModelFormatException(dataPath, t.Name,
                    $"external data [{offset}, {offset + expectedBytes}) is past the end of the file ({fs.Length} bytes)");
            var bytes = new byte[expectedBytes];
            fs.Position = offset;
            fs.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(dataPath, t.Name, $"cannot read external data: {e.Message}", e);
        }
    }

    /// <summary>All elements as f32 (for constants: shapes, epsilons, scales).</summary>
    public static float[] ToFloats(OnnxTensorProto t, string file, string? baseDir)
    {
        var (kind, bytes, shape) = Read(t, file, baseDir);
        var result = new float[shape.ElementCount];
        kind.ToSingle(bytes, result);
        return result;
    }

    /// <summary>All elements as int64 (for integer constants; floats are truncated).</summary>
    public static long[] ToInt64s(OnnxTensorProto t, string file, string? baseDir)
    {
        var (kind, bytes, shape) = Read(t, file, baseDir);
        if (kind == StorageKind.I64)
            return MemoryMarshal.Cast<byte, long>(bytes).ToArray();
        var f = new float[shape.ElementCount];
        kind.ToSingle(bytes, f);
        return f.Select(x => (long)x).ToArray();
    }
}
