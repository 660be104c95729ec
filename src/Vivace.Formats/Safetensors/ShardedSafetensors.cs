using System.Text.Json;
using Vivace.Tensors;

namespace Vivace.Formats.Safetensors;

/// <summary>
/// A checkpoint split over several safetensors files, described by <c>model.safetensors.index.json</c>
/// (<c>{"metadata": {...}, "weight_map": {tensor: "model-00001-of-00002.safetensors"}}</c>). Every shard is
/// opened and validated up front; every name in the weight map must be in the shard it points to.
/// </summary>
public sealed class ShardedSafetensors : IWeightSource
{
    private readonly Dictionary<string, SafetensorsFile> _byName;
    private readonly List<SafetensorsFile> _shards;
    private readonly string[] _names;

    /// <summary>The index file's full path.</summary>
    public string IndexPath { get; }

    /// <summary>The shards in the order the weight map first names them.</summary>
    public IReadOnlyList<SafetensorsFile> Shards => _shards;

    private ShardedSafetensors(string indexPath, Dictionary<string, SafetensorsFile> byName, List<SafetensorsFile> shards, string[] names)
    {
        IndexPath = indexPath;
        _byName = byName;
        _shards = shards;
        _names = names;
    }

    public static ShardedSafetensors Open(string indexPath)
    {
        indexPath = Path.GetFullPath(indexPath);
        string dir = Path.GetDirectoryName(indexPath)!;
        List<(string Tensor, string File)> map = ReadWeightMap(indexPath);

        var files = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var shards = new List<SafetensorsFile>();
        var byName = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var (tensor, file) in map)
            {
                if (!files.TryGetValue(file, out SafetensorsFile? shard))
                {
                    string shardPath = Path.Combine(dir, file);
                    if (!File.Exists(shardPath))
                        throw new ModelFormatException(indexPath, "weight_map." + tensor, $"shard '{file}' does not exist in {dir}");
                    shard = SafetensorsFile.Open(shardPath);
                    files[file] = shard;
                    shards.Add(shard);
                }
                if (!shard.Contains(tensor))
                    throw new ModelFormatException(indexPath, "weight_map." + tensor, $"shard '{file}' has no tensor of that name");
                byName[tensor] = shard;
            }
        }
        catch
        {
            foreach (SafetensorsFile s in shards) s.Dispose();
            throw;
        }
        return new ShardedSafetensors(indexPath, byName, shards, map.Select(m => m.Tensor).ToArray());
    }

    private static List<(string, string)> ReadWeightMap(string indexPath)
    {
        string text;
        try { text = File.ReadAllText(indexPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(indexPath, $"cannot read the safetensors index: {e.Message}", e);
        }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e) { throw new ModelFormatException(indexPath, $"not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(indexPath, $"expected a JSON object, got a {doc.RootElement.ValueKind}");
            if (!doc.RootElement.TryGetProperty("weight_map", out JsonElement wm) || wm.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(indexPath, "weight_map", "missing or not an object");
            var result = new List<(string, string)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty p in wm.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                    throw new ModelFormatException(indexPath, "weight_map." + p.Name, "tensor listed twice");
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new ModelFormatException(indexPath, "weight_map." + p.Name, $"expected a file name string, got a JSON {p.Value.ValueKind}");
                string file = p.Value.GetString()!;
                if (file.Length == 0 || Path.IsPathRooted(file) || file.Contains("..") || file.IndexOfAny(['/', '\\']) >= 0)
                    throw new ModelFormatException(indexPath, "weight_map." + p.Name, $"shard '{file}' is not a plain file name beside the index");
                result.Add((p.Name, file));
            }
            if (result.Count == 0)
                throw new ModelFormatException(indexPath, "weight_map", "is empty");
            return result;
        }
    }

    public IReadOnlyCollection<string> Names => _names;

    public bool Contains(string name) => _byName.ContainsKey(name);

    public Tensor Get(string name) => Shard(name).Get(name);

    public Tensor GetRaw(string name) => Shard(name).GetRaw(name);

    public WeightInfo GetInfo(string name) => Shard(name).GetInfo(name);

    public string Describe() => $"sharded safetensors {IndexPath} ({_shards.Count} shards, {_names.Length} tensors)";

    public override string ToString() => Describe();

    private SafetensorsFile Shard(string name) =>
        _byName.TryGetValue(name, out SafetensorsFile? s) ? s
        : throw new ModelFormatException(IndexPath, name, "no such tensor in the weight map");

    public void Dispose()
    {
        foreach (SafetensorsFile s in _shards) s.Dispose();
    }
}
