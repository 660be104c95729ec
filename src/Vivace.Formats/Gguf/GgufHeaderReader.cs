namespace Vivace.Formats.Gguf;

/// <summary>
/// Parses a GGUF header (magic, version, metadata, tensor infos) with a <see cref="GgufCursor"/>, validating every
/// count, length, dimension and offset against the file as ggml's gguf.cpp does (and a little more).
/// </summary>
internal static class GgufHeaderReader
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const uint DefaultAlignment = 32;
    public const string AlignmentKey = "general.alignment";

    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    public const int MaxDims = 4;

    /// <summary>Arrays of arrays are legal; a bound on nesting keeps a hostile file from overflowing the stack.</summary>
    private const int MaxNesting = 16;

    public sealed record Header(uint Version, Dictionary<string, object> Metadata, List<GgufTensorInfo> Tensors,
        uint Alignment, long DataOffset);

    public static Header Read(GgufCursor c)
    {
        uint magic = c.U32("magic");
        if (magic != Magic) throw c.Error(null, $"not a GGUF file (magic 0x{magic:X8}, expected 0x{Magic:X8} \"GGUF\")");
        uint version = c.U32("version");
        if (version is < 2 or > 3) throw c.Error(null, $"GGUF version {version} is not supported (2 and 3 are)");
        ulong tensorCount = c.U64("tensor count");
        ulong kvCount = c.U64("metadata count");
        // A key/value takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least 8 + 4 + 4 + 8.
        int kvs = c.Count(kvCount, 13, "metadata count");
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (int i = 0; i < kvs; i++)
        {
            string key = c.String($"metadata key {i}");
            var type = (GgufValueType)c.U32($"type of '{key}'");
            object value = ReadValue(c, type, key, 0);
            if (!metadata.TryAdd(key, value)) throw c.Error(key, "metadata key appears twice");
        }
        int tensors = c.Count(tensorCount, 24, "tensor count");

        uint alignment = DefaultAlignment;
        if (metadata.TryGetValue(AlignmentKey, out object? a))
        {
            if (a is not uint u) throw c.Error(AlignmentKey, $"must be a uint32, got {a.GetType().Name}");
            if (u == 0 || (u & (u - 1)) != 0) throw c.Error(AlignmentKey, $"must be a power of two, got {u}");
            alignment = u;
        }

        var infos = new List<GgufTensorInfo>(tensors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < tensors; i++)
        {
            string name = c.String($"tensor {i} name");
            if (!names.Add(name)) throw c.Error(name, "tensor name appears twice");
            uint nDims = c.U32($"'{name}' dimension count");
            if (nDims is 0 or > MaxDims) throw c.Error(name, $"{nDims} dimensions; ggml allows 1 to {MaxDims}");
            var dims = new long[nDims];
            for (int d = 0; d < nDims; d++)
            {
                ulong n = c.U64($"'{name}' dimension {d}");
                if (n > long.MaxValue) throw c.Error(name, $"dimension {d} is {n}");
                dims[d] = (long)n;
            }
            var type = (GgmlType)c.U32($"'{name}' type");
            if (!GgmlTypes.IsKnown(type)) throw c.Error(name, $"unknown ggml tensor type {(uint)type}");
            ulong offset = c.U64($"'{name}' offset");
            if (offset > long.MaxValue) throw c.Error(name, $"data offset {offset} is past the end of the file");
            infos.Add(new GgufTensorInfo(name, dims, type, (long)offset, ByteSize(c, name, dims, type)));
        }

        long dataOffset = Align(c.Position, alignment);
        long dataLength = Math.Max(0, c.Length - dataOffset);
        foreach (GgufTensorInfo t in infos)
        {
            if (t.Offset % alignment != 0)
                throw c.Error(t.Name, $"data offset {t.Offset} is not a multiple of the alignment {alignment}");
            if (t.Offset > dataLength || t.ByteSize > dataLength - t.Offset)
                throw c.Error(t.Name, $"data [{t.Offset}, +{t.ByteSize}) runs past the end of the data section ({dataLength} bytes at file offset {dataOffset})");
        }
        return new Header(version, metadata, infos, alignment, dataOffset);
    }

    /// <summary>Bytes a tensor takes, with ggml's rule that rows hold whole blocks, and no arithmetic overflow.</summary>
    private static long ByteSize(GgufCursor c, string name, long[] dims, GgmlType type)
    {
        int block = type.BlockSize();
        if (dims[0] % block != 0) throw c.Error(name, $"row length {dims[0]} is not a multiple of the {type.Name()} block size {block}");
        try
        {
            long bytes = checked(dims[0] / block * type.TypeSize());
            for (int d = 1; d < dims.Length; d++) bytes = checked(bytes * dims[d]);
            long elements = 1; // GgufTensorInfo.ElementCount must not overflow either (a Q type's bytes grow slower)
            foreach (long d in dims) elements = checked(elements * d);
            return bytes;
        }
        catch (OverflowException)
        {
            throw c.Error(name, $"dimensions [{string.Join(", ", dims)}] overflow 64 bits");
        }
    }

    public static long Align(long position, uint alignment) => (position + alignment - 1) / alignment * alignment;

    private static object ReadValue(GgufCursor c, GgufValueType type, string key, int depth) => type switch
    {
        GgufValueType.UInt8 => c.U8(key),
        GgufValueType.Int8 => (sbyte)c.U8(key),
        GgufValueType.UInt16 => c.U16(key),
        GgufValueType.Int16 => (short)c.U16(key),
        GgufValueType.UInt32 => c.U32(key),
        GgufValueType.Int32 => (int)c.U32(key),
        GgufValueType.Float32 => c.F32(key),
        GgufValueType.Bool => ReadBool(c, key),
        GgufValueType.String => c.String(key),
        GgufValueType.Array => ReadArray(c, key, depth + 1),
        GgufValueType.UInt64 => c.U64(key),
        GgufValueType.Int64 => (long)c.U64(key),
        GgufValueType.Float64 => c.F64(key),
        _ => throw c.Error(key, $"unknown metadata value type {(uint)type}"),
    };

    private static bool ReadBool(GgufCursor c, string key)
    {
        byte b = c.U8(key);
        return b switch { 0 => false, 1 => true, _ => throw c.Error(key, $"bool byte is {b}, not 0 or 1") };
    }

    /// <summary>An array as a typed CLR array (string[], uint[], float[], ...); an array of arrays as <c>Array[]</c>.</summary>
    private static Array ReadArray(GgufCursor c, string key, int depth)
    {
        if (depth > MaxNesting) throw c.Error(key, $"arrays nested more than {MaxNesting} deep");
        var type = (GgufValueType)c.U32(key + " element type");
        ulong n = c.U64(key + " element count");
        int minBytes = type switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => throw c.Error(key, $"unknown array element type {(uint)type}"),
        };
        int count = c.Count(n, minBytes, key);
        Array result = type switch
        {
            GgufValueType.UInt8 => new byte[count],
            GgufValueType.Int8 => new sbyte[count],
            GgufValueType.UInt16 => new ushort[count],
            GgufValueType.Int16 => new short[count],
            GgufValueType.UInt32 => new uint[count],
            GgufValueType.Int32 => new int[count],
            GgufValueType.Float32 => new float[count],
            GgufValueType.Bool => new bool[count],
            GgufValueType.String => new string[count],
            GgufValueType.UInt64 => new ulong[count],
            GgufValueType.Int64 => new long[count],
            GgufValueType.Float64 => new double[count],
            _ => new Array[count],
        };
        for (int i = 0; i < count; i++) result.SetValue(ReadValue(c, type, key, depth), i);
        return result;
    }
}
