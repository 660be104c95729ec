

namespace Vivace.Tokenizers.Gguf;

/// <summary>
/// The metadata key/values of a GGUF file (v2/v3, little-endian), read up to the tensor infos, which are
/// not needed for a vocabulary. Values are boxed: integers as long (unsigned as ulong), floats as double
/// (f32 arrays stay float[]), strings, bools, and arrays as typed arrays (string[], int[], float[], object[]).
/// </summary>
public sealed class GgufMetadata
{
    private readonly Dictionary<string, object> _values = new(StringComparer.Ordinal);

    public uint Version { get; private set; }

    public IReadOnlyDictionary<string, object> Values => _values;

    /// <summary>
    /// Metadata another GGUF reader already parsed (a model loader's), so a file's header is read once: values as that
    /// reader boxes them (any integer or float width, typed arrays), normalized to this class's forms.
    /// </summary>
    public static GgufMetadata FromValues(IEnumerable<KeyValuePair<string, object>> values, uint version = 3)
    {
        ArgumentNullException.ThrowIfNull(values);
        var m = new GgufMetadata { Version = version };
        foreach (var (key, value) in values) m._values[key] = Normalize(value);
        return m;
    }

    private static object Normalize(object value) => value switch
    {
        byte or sbyte or ushort or short or uint or int => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        float f => (double)f,
        string[] or int[] or float[] => value,
        uint[] u => Array.ConvertAll(u, x => unchecked((int)x)), // as Read keeps u32 arrays: int[] of the same bits
        Array a => a.Cast<object>().Select(Normalize).ToArray(),
        _ => value, // long, ulong, double, bool, string
    };

    public static GgufMetadata Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    public static GgufMetadata Read(Stream stream)
    {
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        var m = new GgufMetadata();
        try
        {
            if (r.ReadUInt32() != 0x46554747) throw new InvalidDataException("Not a GGUF file (bad magic).");
            m.Version = r.ReadUInt32();
            if (m.Version is < 2 or > 3) throw new InvalidDataException($"Unsupported GGUF version {m.Version}.");
            r.ReadUInt64(); // tensor count
            ulong kvCount = r.ReadUInt64();
            if (kvCount > 1_000_000) throw new InvalidDataException("GGUF metadata count is implausible.");
            for (ulong i = 0; i < kvCount; i++)
            {
                string key = ReadString(r);
                uint type = r.ReadUInt32();
                m._values[key] = ReadValue(r, type);
            }
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("GGUF file is truncated.");
        }
        return m;
    }

    private static string ReadString(BinaryReader r)
    {
        ulong n = r.ReadUInt64();
        if (n > int.MaxValue) throw new InvalidDataException("GGUF string too long.");
        var bytes = r.ReadBytes((int)n);
        if (bytes.Length != (int)n) throw new EndOfStreamException();
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    private static object ReadValue(BinaryReader r, uint type) => type switch
    {
        0 => (long)r.ReadByte(),
        1 => (long)r.ReadSByte(),
        2 => (long)r.ReadUInt16(),
        3 => (long)r.ReadInt16(),
        4 => (long)r.ReadUInt32(),
        5 => (long)r.ReadInt32(),
        6 => (double)r.ReadSingle(),
        7 => r.ReadByte() != 0,
        8 => ReadString(r),
        9 => ReadArray(r),
        10 => r.ReadUInt64(),
        11 => r.ReadInt64(),
        12 => r.ReadDouble(),
        _ => throw new InvalidDataException($"Unknown GGUF value type {type}."),
    };

    private static object ReadArray(BinaryReader r)
    {
        uint type = r.ReadUInt32();
        ulong n = r.ReadUInt64();
        if (n > 100_000_000) throw new InvalidDataException("GGUF array too long.");
        int count = (int)n;
        switch (type)
        {
            case 8:
            {
                var a = new string[count];
                for (int i = 0; i < count; i++) a[i] = ReadString(r);
                return a;
            }
            case 4 or 5:
            {
                var a = new int[count];
                for (int i = 0; i < count; i++) a[i] = r.ReadInt32();
                return a;
            }
            case 6:
            {
                var a = new float[count];
                for (int i = 0; i < count; i++) a[i] = r.ReadSingle();
                return a;
            }
            default:
            {
                var a = new object[count];
                for (int i = 0; i < count; i++) a[i] = ReadValue(r, type);
                return a;
            }
        }
    }

    public string? GetString(string key) => _values.GetValueOrDefault(key) as string;

    public long? GetInt(string key) => _values.GetValueOrDefault(key) switch
    {
        long l => l,
        ulong u => (long)u,
        _ => null,
    };

    public bool? GetBool(string key) => _values.GetValueOrDefault(key) as bool?;

    public T[]? GetArray<T>(string key) => _values.GetValueOrDefault(key) as T[];
}
