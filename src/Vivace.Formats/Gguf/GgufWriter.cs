using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Vivace.Tensors;

namespace Vivace.Formats.Gguf;

/// <summary>
/// Writes a GGUF v3 file in the layout ggml's gguf.cpp writes and its loader insists on: header, metadata, tensor
/// infos, zero padding to the alignment, then each tensor's data at its offset (relative to the data section) with
/// zero padding after every tensor, the last included (the loader reads the padded size of the whole data section).
/// <para>Metadata values are given as CLR values and keep their type: byte → u8, sbyte → i8, ushort → u16,
/// short → i16, uint → u32, int → i32, float → f32, bool, string, ulong → u64, long → i64, double → f64; typed
/// arrays of those are GGUF arrays and <c>Array[]</c> is an array of arrays. Tensor data is produced on demand at
/// <see cref="Write(string)"/>, one tensor at a time, so a large model need not be held in memory.</para>
/// </summary>
public sealed class GgufWriter
{
    /// <summary>ggml's GGML_MAX_NAME (64) less the terminating NUL.</summary>
    public const int MaxTensorName = 63;

    private sealed record PendingTensor(string Name, long[] Dimensions, GgmlType Type, long ByteSize, Func<byte[]> Data);

    private readonly List<KeyValuePair<string, object>> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public uint Alignment { get; }

    /// <param name="alignment">Data alignment, a power of two; written as <c>general.alignment</c> when not 32.</param>
    public GgufWriter(uint alignment = GgufHeaderReader.DefaultAlignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "alignment must be a power of two");
        Alignment = alignment;
        if (alignment != GgufHeaderReader.DefaultAlignment) AddMetadata(GgufHeaderReader.AlignmentKey, alignment);
    }

    /// <summary>Adds a key/value; a repeated key or a value of no GGUF type throws.</summary>
    public GgufWriter AddMetadata(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        TypeOf(value, key); // validates now rather than halfway through writing
        if (!_keys.Add(key)) throw new ArgumentException($"metadata key '{key}' added twice", nameof(key));
        _metadata.Add(new(key, value));
        return this;
    }

    /// <summary>Adds a tensor from its stored bytes. <paramref name="hfShape"/> is row-major (HF) order.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, ReadOnlySpan<int> hfShape, Func<byte[]> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Encoding.UTF8.GetByteCount(name) > MaxTensorName)
            throw new ArgumentException($"tensor name '{name}' is longer than ggml's {MaxTensorName} bytes", nameof(name));
        if (hfShape.Length is 0 or > GgufHeaderReader.MaxDims)
            throw new ArgumentException($"'{name}': {hfShape.Length} dimensions; ggml allows 1 to {GgufHeaderReader.MaxDims}", nameof(hfShape));
        if (!GgmlTypes.IsKnown(type)) throw new ArgumentException($"'{name}': unknown ggml type {(uint)type}", nameof(type));
        long[] dims = new long[hfShape.Length];
        for (int i = 0; i < dims.Length; i++) dims[i] = hfShape[dims.Length - 1 - i];
        if (dims.Any(d => d < 0)) throw new ArgumentException($"'{name}': negative dimension", nameof(hfShape));
        if (dims[0] % type.BlockSize() != 0)
            throw new ArgumentException($"'{name}': row length {dims[0]} is not a multiple of the {type} block size {type.BlockSize()}", nameof(hfShape));
        long bytes = dims[0] / type.BlockSize() * type.TypeSize();
        for (int i = 1; i < dims.Length; i++) bytes = checked(bytes * dims[i]);
        if (!_names.Add(name)) throw new ArgumentException($"tensor '{name}' added twice", nameof(name));
        _tensors.Add(new PendingTensor(name, dims, type, bytes, data));
        return this;
    }

    /// <summary>Adds an f32 tensor stored as F32 or F16 (converted at write time).</summary>
    public GgufWriter AddTensor(string name, Tensor tensor, GgmlType type = GgmlType.F32)
    {
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.Q8_0 or GgmlType.Q4_0))
            throw new ArgumentException($"'{name}': the writer converts to F32, F16, Q8_0 or Q4_0, not {type}", nameof(type));
        if (type.BlockFormat() is BlockFormat format)
        {
            if (tensor.Rank != 2) throw new ArgumentException($"'{name}': only matrices are block-quantized, got {tensor.Shape}", nameof(tensor));
            return AddTensor(name, type, tensor.Shape.Dims, () => QuantizedMatrix.Quantize(tensor, format).Data);
        }
        return AddTensor(name, type, tensor.Shape.Dims, () => Encode(tensor.ToF32(), type));
    }

    /// <summary>Adds a block-quantized matrix as is.</summary>
    public GgufWriter AddQuantized(string name, QuantizedMatrix matrix) =>
        AddTensor(name, matrix.Format == BlockFormat.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q4_0, [matrix.Rows, matrix.Columns], () => matrix.Data);

    private static byte[] Encode(Tensor f32, GgmlType type)
    {
        ReadOnlySpan<float> values = f32.AsSpan();
        if (type == GgmlType.F32) return MemoryMarshal.AsBytes(values).ToArray();
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
        return bytes;
    }

    public void Write(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Write(stream);
    }

    public void Write(Stream stream)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("GGUF is written little-endian; big-endian hosts are not supported");
        // The header (metadata and tensor infos: megabytes at most, for a vocabulary) is built in memory so its
        // padded length is known whatever the stream; the data then follows one tensor at a time.
        var header = new MemoryStream();
        using (var h = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
        {
            h.Write(GgufHeaderReader.Magic);
            h.Write(3u);
            h.Write((ulong)_tensors.Count);
            h.Write((ulong)_metadata.Count);
            foreach (var (key, value) in _metadata)
            {
                WriteString(h, key);
                GgufValueType type = TypeOf(value, key);
                h.Write((uint)type);
                WriteValue(h, type, value, key);
            }
            long offset = 0;
            foreach (PendingTensor t in _tensors)
            {
                WriteString(h, t.Name);
                h.Write((uint)t.Dimensions.Length);
                foreach (long d in t.Dimensions) h.Write((ulong)d);
                h.Write((uint)t.Type);
                h.Write((ulong)offset);
                offset = GgufHeaderReader.Align(offset + t.ByteSize, Alignment);
            }
            h.Flush();
            Pad(h, header.Length);
        }
        header.Position = 0;
        header.CopyTo(stream);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        foreach (PendingTensor t in _tensors)
        {
            byte[] data = t.Data();
            if (data.LongLength != t.ByteSize)
                throw new InvalidOperationException($"'{t.Name}': {t.Type} ne=[{string.Join(", ", t.Dimensions)}] takes {t.ByteSize} bytes, the data has {data.LongLength}");
            w.Write(data);
            Pad(w, data.LongLength);
        }
        w.Flush();
    }

    private void Pad(BinaryWriter w, long length)
    {
        long padding = GgufHeaderReader.Align(length, Alignment) - length;
        for (long i = 0; i < padding; i++) w.Write((byte)0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static GgufValueType TypeOf(object value, string key) => value switch
    {
        byte => GgufValueType.UInt8,
        sbyte => GgufValueType.Int8,
        ushort => GgufValueType.UInt16,
        short => GgufValueType.Int16,
        uint => GgufValueType.UInt32,
        int => GgufValueType.Int32,
        float => GgufValueType.Float32,
        bool => GgufValueType.Bool,
        string => GgufValueType.String,
        ulong => GgufValueType.UInt64,
        long => GgufValueType.Int64,
        double => GgufValueType.Float64,
        Array a when a.Rank == 1 && ElementType(a, key) is var _ => GgufValueType.Array,
        _ => throw new ArgumentException($"metadata '{key}': {value.GetType().Name} has no GGUF type"),
    };

    /// <summary>The GGUF type of an array's elements, from its CLR element type (<c>Array[]</c>: arrays).</summary>
    private static GgufValueType ElementType(Array a, string key)
    {
        Type t = a.GetType().GetElementType()!;
        if (t == typeof(Array) || t.IsArray)
        {
            foreach (object? item in a)
                if (item is not Array) throw new ArgumentException($"metadata '{key}': an array of arrays holds a {item?.GetType().Name ?? "null"}");
            foreach (Array inner in a) TypeOf(inner, key);
            return GgufValueType.Array;
        }
        if (t == typeof(string))
        {
            foreach (object? item in a)
                if (item is null) throw new ArgumentException($"metadata '{key}': null string in an array");
            return GgufValueType.String;
        }
        object? sample = t.IsValueType ? Activator.CreateInstance(t) : null;
        return sample is null || sample is Array ? throw new ArgumentException($"metadata '{key}': arrays of {t.Name} have no GGUF type")
            : TypeOf(sample, key);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value, string key)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Array:
            {
                var a = (Array)value;
                GgufValueType element = ElementType(a, key);
                w.Write((uint)element);
                w.Write((ulong)a.Length);
                foreach (object item in a) WriteValue(w, element, item, key);
                break;
            }
        }
    }
}
