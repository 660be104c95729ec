using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vivace.Tensors;

namespace Vivace.Formats.Gguf;

/// <summary>
/// A GGUF file (llama.cpp's format, versions 2 and 3): its metadata key/values, its tensor infos and their data.
/// The header is parsed and validated against the file length once at <see cref="Open"/>; tensor data is read on
/// demand with positional reads, so reads are safe from several threads at once.
/// <para>Metadata values are typed CLR values: byte, sbyte, ushort, short, uint, int, float, bool, string, ulong,
/// long, double; arrays as typed arrays of those (<c>string[]</c>, <c>int[]</c>, ...) and arrays of arrays as
/// <c>Array[]</c>. <see cref="GgufWriter"/> maps the same CLR types back, so values round-trip with their GGUF type.</para>
/// </summary>
public sealed class GgufFile : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    public string FilePath { get; }
    public uint Version { get; }
    public IReadOnlyDictionary<string, object> Metadata { get; }
    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    /// <summary><c>general.alignment</c>, 32 when absent.</summary>
    public uint Alignment { get; }
    /// <summary>File offset of the data section (tensor offsets count from here).</summary>
    public long DataOffset { get; }

    private GgufFile(string path, SafeFileHandle file, GgufHeaderReader.Header h)
    {
        FilePath = path;
        _file = file;
        Version = h.Version;
        Metadata = h.Metadata.AsReadOnly();
        Tensors = h.Tensors.AsReadOnly();
        Alignment = h.Alignment;
        DataOffset = h.DataOffset;
        _byName = h.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Opens and validates a GGUF file; anything malformed throws <see cref="ModelFormatException"/>.</summary>
    public static GgufFile Open(string path)
    {
        path = Path.GetFullPath(path);
        SafeFileHandle file;
        try { file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot open GGUF file: {e.Message}", e);
        }
        try
        {
            var cursor = new GgufCursor(file, path, RandomAccess.GetLength(file));
            return new GgufFile(path, file, GgufHeaderReader.Read(cursor));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool ContainsTensor(string name) => _byName.ContainsKey(name);

    public GgufTensorInfo GetTensorInfo(string name) =>
        _byName.TryGetValue(name, out GgufTensorInfo? t) ? t : throw new ModelFormatException(FilePath, name, "no tensor of that name in the GGUF file");

    // ---- metadata ----

    public string? GetString(string key) => Metadata.GetValueOrDefault(key) switch
    {
        null => null,
        string s => s,
        object o => throw WrongType(key, "a string", o),
    };

    /// <summary>Any integer-typed value as a long (a u64 above long.MaxValue is an error), or null when absent.</summary>
    public long? GetInteger(string key) => Metadata.GetValueOrDefault(key) switch
    {
        null => null,
        byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v, long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        object o => throw WrongType(key, "an integer", o),
    };

    /// <summary>A float (f32 or f64) value, or null when absent.</summary>
    public double? GetFloat(string key) => Metadata.GetValueOrDefault(key) switch
    {
        null => null,
        float f => f,
        double d => d,
        object o => throw WrongType(key, "a float", o),
    };

    public bool? GetBool(string key) => Metadata.GetValueOrDefault(key) switch
    {
        null => null,
        bool b => b,
        object o => throw WrongType(key, "a bool", o),
    };

    /// <summary>An array whose elements have CLR type <typeparamref name="T"/>, or null when absent.</summary>
    public T[]? GetArray<T>(string key) => Metadata.GetValueOrDefault(key) switch
    {
        null => null,
        T[] a => a,
        object o => throw WrongType(key, $"an array of {typeof(T).Name}", o),
    };

    private ModelFormatException WrongType(string key, string expected, object got) =>
        new(FilePath, key, $"expected {expected}, got {got.GetType().Name}");

    // ---- tensor data ----

    /// <summary>The tensor's bytes as stored.</summary>
    public byte[] ReadBytes(GgufTensorInfo t)
    {
        if (t.ByteSize > Array.MaxLength) throw new ModelFormatException(FilePath, t.Name, $"{t.ByteSize} bytes is more than one array holds");
        var bytes = new byte[t.ByteSize];
        ReadInto(t, bytes);
        return bytes;
    }

    private void ReadInto(GgufTensorInfo t, Span<byte> destination)
    {
        long at = DataOffset + t.Offset;
        int read = 0;
        while (read < destination.Length)
        {
            int n = RandomAccess.Read(_file, destination[read..], at + read);
            if (n == 0) throw new ModelFormatException(FilePath, t.Name, "unexpected end of file (was it truncated after opening?)");
            read += n;
        }
    }

    /// <summary>
    /// The tensor as f32 in HF shape (ggml dims reversed): F32 as is, F16 and BF16 widened, Q8_0 and Q4_0 dequantized.
    /// Other types throw <see cref="ModelFormatException"/> naming the tensor and its type.
    /// </summary>
    public Tensor ReadF32(GgufTensorInfo t)
    {
        int[] shape = HfShape(t);
        if (t.Type == GgmlType.F32)
        {
            RequireLittleEndian();
            var data = new float[t.ElementCount];
            ReadInto(t, MemoryMarshal.AsBytes(data.AsSpan()));
            return Tensor.FromArray(data, shape);
        }
        if (t.Type.BlockFormat() is not null) return ReadQuantized(t).Dequantize().Reshape(shape);
        return ReadStored(t).ToF32();
    }

    /// <summary>The tensor in its stored dtype where Vivace has one (F16 as Half, BF16 as raw ushort bits), f32 otherwise.</summary>
    public Tensor ReadStored(GgufTensorInfo t)
    {
        int[] shape = HfShape(t);
        RequireLittleEndian();
        switch (t.Type)
        {
            case GgmlType.F16:
            {
                var data = new Half[t.ElementCount];
                ReadInto(t, MemoryMarshal.AsBytes(data.AsSpan()));
                return Tensor.FromArray(data, shape);
            }
            case GgmlType.BF16:
            {
                var data = new ushort[t.ElementCount];
                ReadInto(t, MemoryMarshal.AsBytes(data.AsSpan()));
                return Tensor.FromArray(data, shape);
            }
            default:
                return ReadF32(t);
        }
    }

    /// <summary>
    /// A Q8_0 or Q4_0 tensor as rows of blocks: <c>[rows, ne[0]]</c> where rows is the product of the other dims.
    /// </summary>
    public QuantizedMatrix ReadQuantized(GgufTensorInfo t)
    {
        BlockFormat format = t.Type.BlockFormat() ?? throw Unsupported(t);
        int[] shape = HfShape(t);
        return new QuantizedMatrix(format, checked((int)t.RowCount), shape[^1], ReadBytes(t), t.Name);
    }

    private int[] HfShape(GgufTensorInfo t)
    {
        if (!t.Type.IsReadable()) throw Unsupported(t);
        if (t.ElementCount > Array.MaxLength || t.Dimensions.Any(d => d > int.MaxValue))
            throw new ModelFormatException(FilePath, t.Name, $"ne=[{string.Join(", ", t.Dimensions)}] is too large for one tensor");
        return [.. t.HfShape.Select(d => (int)d)];
    }

    private ModelFormatException Unsupported(GgufTensorInfo t) =>
        new(FilePath, t.Name, $"ggml type {t.Type.Name()} is not supported (Vivace reads F32, F16, BF16, Q8_0 and Q4_0)");

    private static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("GGUF data is little-endian; big-endian hosts are not supported");
    }

    public override string ToString() => $"GGUF v{Version} {FilePath} ({Tensors.Count} tensors, {Metadata.Count} keys)";

    public void Dispose() => _file.Dispose();
}
