using System.Text.Json;
using Vivace.Tensors;

namespace Vivace.Formats.Safetensors;

/// <summary>One tensor entry of a safetensors header, validated.</summary>
/// <param name="Kind">The element encoding, or null for a dtype the spec knows that Vivace cannot decode (F8).</param>
/// <param name="Begin">First byte, relative to the start of the data section.</param>
/// <param name="End">One past the last byte, relative to the start of the data section.</param>
internal sealed record SafetensorsEntry(string Name, string DTypeName, StorageKind? Kind, Shape Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// Parses and validates a safetensors header: <c>u64 N (little-endian)</c>, N bytes of a UTF-8 JSON object
/// <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}</c>, then the data section.
/// Validation follows the format's rules: offsets inside the data, begin ≤ end, size = elements × dtype size,
/// entries covering the data exactly with neither overlap nor gap, no duplicate names.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The reference implementation refuses headers above 100 MB; so do we.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, (int Size, StorageKind? Kind)> DTypes = new(StringComparer.Ordinal)
    {
        ["F32"] = (4, StorageKind.F32),
        ["F16"] = (2, StorageKind.F16),
        ["BF16"] = (2, StorageKind.BF16),
        ["F64"] = (8, StorageKind.F64),
        ["I64"] = (8, StorageKind.I64),
        ["U64"] = (8, StorageKind.U64),
        ["I32"] = (4, StorageKind.I32),
        ["U32"] = (4, StorageKind.U32),
        ["I16"] = (2, StorageKind.I16),
        ["U16"] = (2, StorageKind.U16),
        ["I8"] = (1, StorageKind.I8),
        ["U8"] = (1, StorageKind.U8),
        ["BOOL"] = (1, StorageKind.Bool),
        ["F8_E4M3"] = (1, null),
        ["F8_E5M2"] = (1, null),
    };

    /// <summary>Checks the 8-byte prefix and returns the header length.</summary>
    public static long ReadHeaderLength(string path, ReadOnlySpan<byte> prefix, long fileLength)
    {
        if (fileLength < 8)
            throw new ModelFormatException(path, $"file is {fileLength} bytes, too short for the 8-byte safetensors header length");
        ulong n = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > (ulong)(fileLength - 8))
            throw new ModelFormatException(path, $"header length {n} exceeds the file ({fileLength} bytes): truncated or not a safetensors file");
        if (n > MaxHeaderBytes)
            throw new ModelFormatException(path, $"header length {n} exceeds the {MaxHeaderBytes}-byte limit");
        if (n < 2)
            throw new ModelFormatException(path, $"header length {n} is too small to hold a JSON object");
        return (long)n;
    }

    /// <summary>Parses the header JSON and validates every entry against a data section of <paramref name="dataLength"/> bytes.</summary>
    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(
        string path, byte[] header, long dataLength)
    {
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new ModelFormatException(path, "header is not valid JSON: it is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new ModelFormatException(path, $"header is not valid JSON: {e.Message}", e);
        }
        try
        {
            return ParseDocument(path, doc, dataLength);
        }
        catch (InvalidOperationException e)
        {
            // Strings that are valid JSON but not valid text (e.g. an escaped lone surrogate).
            throw new ModelFormatException(path, $"header is not valid JSON: {e.Message}", e);
        }
        finally
        {
            doc.Dispose();
        }
    }

    private static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) ParseDocument(
        string path, JsonDocument doc, long dataLength)
    {
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(path, $"header is a JSON {root.ValueKind}, expected an object");
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty p in root.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                    throw new ModelFormatException(path, p.Name, "name appears twice in the header");
                if (p.Name == "__metadata__")
                {
                    ReadMetadata(path, p.Value, metadata);
                    continue;
                }
                entries.Add(ReadEntry(path, p.Name, p.Value, dataLength));
            }
            CheckCoverage(path, entries, dataLength);
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, "__metadata__", $"expected an object of strings, got a JSON {value.ValueKind}");
        foreach (JsonProperty m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new ModelFormatException(path, "__metadata__." + m.Name, $"expected a string, got a JSON {m.Value.ValueKind}");
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    private static SafetensorsEntry ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, name, $"expected an object with dtype, shape and data_offsets, got a JSON {value.ValueKind}");

        if (!value.TryGetProperty("dtype", out JsonElement dt) || dt.ValueKind != JsonValueKind.String)
            throw new ModelFormatException(path, name, "missing or non-string 'dtype'");
        string dtype = dt.GetString()!;
        if (!DTypes.TryGetValue(dtype, out var info))
            throw new ModelFormatException(path, name, $"unknown dtype '{dtype}'");

        if (!value.TryGetProperty("shape", out JsonElement sh) || sh.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException(path, name, "missing or non-array 'shape'");
        int rank = sh.GetArrayLength();
        if (rank > 16) throw new ModelFormatException(path, name, $"shape has rank {rank}, more than 16");
        var dims = new int[rank];
        long elements = 1;
        bool overflow = false;
        for (int i = 0; i < rank; i++)
        {
            JsonElement d = sh[i];
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v))
                throw new ModelFormatException(path, name, $"shape[{i}] is not an integer: {d.GetRawText()}");
            if (v < 0) throw new ModelFormatException(path, name, $"shape[{i}] is negative ({v})");
            if (v > int.MaxValue) throw new ModelFormatException(path, name, $"shape[{i}] = {v} exceeds {int.MaxValue}");
            dims[i] = (int)v;
            if (!overflow)
            {
                try { elements = checked(elements * v); }
                catch (OverflowException) { overflow = true; }
            }
        }

        if (!value.TryGetProperty("data_offsets", out JsonElement off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new ModelFormatException(path, name, "missing 'data_offsets' or not an array of two integers");
        long begin = ReadOffset(path, name, off[0], "begin");
        long end = ReadOffset(path, name, off[1], "end");
        if (begin > end)
            throw new ModelFormatException(path, name, $"data_offsets begin {begin} is after end {end}");
        if (end > dataLength)
            throw new ModelFormatException(path, name, $"data_offsets end {end} is past the data section ({dataLength} bytes): file truncated?");

        if (overflow || elements > long.MaxValue / info.Size)
            throw new ModelFormatException(path, name, $"shape [{string.Join(", ", dims)}] overflows");
        // A dimension of zero makes the tensor empty even when the other dims are huge.
        long bytes = elements * info.Size;
        if (bytes != end - begin)
            throw new ModelFormatException(path, name,
                $"shape [{string.Join(", ", dims)}] of {dtype} needs {bytes} bytes but data_offsets span {end - begin}");
        return new SafetensorsEntry(name, dtype, info.Kind, new Shape(dims), begin, end);
    }

    private static long ReadOffset(string path, string name, JsonElement e, string which)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long v) || v < 0)
            throw new ModelFormatException(path, name, $"data_offsets {which} is not a non-negative integer: {e.GetRawText()}");
        return v;
    }

    private static void CheckCoverage(string path, List<SafetensorsEntry> entries, long dataLength)
    {
        var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        long expected = 0;
        foreach (SafetensorsEntry e in sorted)
        {
            if (e.Begin < expected)
                throw new ModelFormatException(path, e.Name, $"data_offsets [{e.Begin}, {e.End}) overlap the previous tensor (which ends at {expected})");
            if (e.Begin > expected)
                throw new ModelFormatException(path, e.Name, $"data_offsets begin {e.Begin} leaves a gap after byte {expected}");
            expected = e.End;
        }
        if (expected != dataLength)
            throw new ModelFormatException(path,
                $"tensors cover {expected} bytes but the data section holds {dataLength}: the header does not describe the whole file");
    }
}
