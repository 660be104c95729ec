using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace Vivace.Formats.Tests;

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vivace-formats-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A tiny safetensors writer for tests: entries are laid out in order, contiguous from offset 0.</summary>
public static class SafetensorsWriter
{
    public sealed record Entry(string Name, string DType, int[] Shape, byte[] Data);

    public static void Write(string path, IEnumerable<Entry> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null)
        {
            var m = new JsonObject();
            foreach (var (k, v) in metadata) m[k] = v;
            header["__metadata__"] = m;
        }
        long offset = 0;
        var data = new MemoryStream();
        foreach (Entry e in entries)
        {
            header[e.Name] = new JsonObject
            {
                ["dtype"] = e.DType,
                ["shape"] = new JsonArray(e.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + e.Data.Length),
            };
            data.Write(e.Data);
            offset += e.Data.Length;
        }
        WriteRaw(path, header.ToJsonString(), data.ToArray());
    }

    /// <summary>Writes any header text (padded with spaces to a multiple of 8, as the reference writer does) and data.</summary>
    public static void WriteRaw(string path, string headerJson, byte[] data, long? declaredHeaderLength = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(headerJson);
        int padded = (h.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(declaredHeaderLength ?? padded));
        h.CopyTo(file, 8);
        for (int i = h.Length; i < padded; i++) file[8 + i] = (byte)' ';
        data.CopyTo(file, 8 + padded);
        System.IO.File.WriteAllBytes(path, file);
    }

    public static byte[] F32(params float[] v)
    {
        var b = new byte[v.Length * 4];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), v[i]);
        return b;
    }

    public static byte[] F16(params float[] v)
    {
        var b = new byte[v.Length * 2];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(b.AsSpan(i * 2), (Half)v[i]);
        return b;
    }

    public static byte[] BF16(params float[] v)
    {
        var b = new byte[v.Length * 2];
        for (int i = 0; i < v.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 2), Vivace.Tensors.NumericConversions.SingleToBFloat16(v[i]));
        return b;
    }

    public static byte[] I64(params long[] v)
    {
        var b = new byte[v.Length * 8];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(i * 8), v[i]);
        return b;
    }

    public static byte[] I32(params int[] v)
    {
        var b = new byte[v.Length * 4];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(i * 4), v[i]);
        return b;
    }
}

/// <summary>The parameter names of a Hugging Face BertModel.</summary>
public static class BertNames
{
    public static HashSet<string> BertModel(int layers, bool pooler = true)
    {
        var names = new HashSet<string>
        {
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
            "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
        };
        string[] linear = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
            "intermediate.dense", "output.dense", "attention.output.LayerNorm", "output.LayerNorm"];
        for (int l = 0; l < layers; l++)
            foreach (string m in linear)
            {
                names.Add($"encoder.layer.{l}.{m}.weight");
                names.Add($"encoder.layer.{l}.{m}.bias");
            }
        if (pooler)
        {
            names.Add("pooler.dense.weight");
            names.Add("pooler.dense.bias");
        }
        return names;
    }
}
