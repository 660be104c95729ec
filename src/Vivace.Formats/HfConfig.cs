using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vivace.Formats;

/// <summary>
/// A Hugging Face <c>config.json</c>, read with typed getters whose errors name the file and the field.
/// A field written as JSON <c>null</c> counts as absent. A dotted field ("text_config.hidden_size") is looked up
/// through nested objects when no top-level key has that exact name.
/// </summary>
public sealed class HfConfig
{
    /// <summary>The file the config came from (or the label given to <see cref="Parse"/>).</summary>
    public string Source { get; }

    /// <summary>The whole JSON object.</summary>
    public JsonElement Root { get; }

    private HfConfig(string source, JsonElement root)
    {
        Source = source;
        Root = root;
    }

    /// <summary>Reads <paramref name="path"/>: a <c>config.json</c> file or a model directory holding one.</summary>
    public static HfConfig Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        file = Path.GetFullPath(file);
        if (!File.Exists(file))
            throw new ModelFormatException(file, "config.json not found");
        string text;
        try { text = File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(file, $"cannot read: {e.Message}", e);
        }
        return Parse(text, file);
    }

    /// <summary>Parses JSON text; <paramref name="source"/> names it in errors.</summary>
    public static HfConfig Parse(string json, string source = "config.json")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(source, $"not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(source, $"expected a JSON object, got a {doc.RootElement.ValueKind}");
            return new HfConfig(source, doc.RootElement.Clone());
        }
    }

    /// <summary>A config built from values (numbers, strings, bools, arrays, nested dictionaries or JsonNodes).</summary>
    public static HfConfig FromValues(IEnumerable<KeyValuePair<string, object?>> values, string source)
    {
        var obj = new JsonObject();
        foreach (var (k, v) in values) obj[k] = v is null ? null : JsonSerializer.SerializeToNode(v, v.GetType());
        return Parse(obj.ToJsonString(), source);
    }

    /// <summary>The config as JSON text (for writing a <c>config.json</c>).</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(Root, new JsonSerializerOptions { WriteIndented = indented });

    /// <summary><c>model_type</c>; required.</summary>
    public string ModelType => GetRequiredString("model_type");

    /// <summary><c>architectures</c>, empty when absent.</summary>
    public IReadOnlyList<string> Architectures
    {
        get
        {
            if (!TryGetElement("architectures", out JsonElement e)) return [];
            if (e.ValueKind != JsonValueKind.Array) throw Wrong("architectures", "an array of strings", e);
            var list = new List<string>();
            foreach (JsonElement a in e.EnumerateArray())
            {
                if (a.ValueKind != JsonValueKind.String) throw Wrong("architectures", "an array of strings", e);
                list.Add(a.GetString()!);
            }
            return list;
        }
    }

    /// <summary>Whether the field is present and not null.</summary>
    public bool Has(string field) => TryGetElement(field, out _);

    /// <summary>The field's JSON value, if present and not null.</summary>
    public bool TryGetElement(string field, out JsonElement value)
    {
        if (Root.TryGetProperty(field, out value) && value.ValueKind != JsonValueKind.Null) return true;
        if (field.Contains('.'))
        {
            JsonElement cur = Root;
            foreach (string part in field.Split('.'))
            {
                if (cur.ValueKind != JsonValueKind.Object || !cur.TryGetProperty(part, out cur))
                {
                    value = default;
                    return false;
                }
            }
            value = cur;
            return cur.ValueKind != JsonValueKind.Null;
        }
        value = default;
        return false;
    }

    // ---- integers ----

    public int GetInt(string field) => TryGetInt(field) ?? throw Missing(field);

    /// <summary>The first of <paramref name="field"/> and <paramref name="fallbackField"/> that is present.</summary>
    public int GetInt(string field, string fallbackField) => GetIntAny(field, fallbackField);

    public int GetInt(string field, int defaultValue) => TryGetInt(field) ?? defaultValue;

    /// <summary>The first present field among alias names (e.g. "hidden_size", "dim", "n_embd").</summary>
    public int GetIntAny(params string[] fields) => TryGetIntAny(fields) ?? throw Missing(fields);

    public int? TryGetIntAny(params string[] fields)
    {
        foreach (string f in fields)
            if (TryGetInt(f) is int v) return v;
        return null;
    }

    public int? TryGetInt(string field)
    {
        if (!TryGetElement(field, out JsonElement e)) return null;
        if (e.ValueKind == JsonValueKind.Number)
        {
            if (e.TryGetInt32(out int i)) return i;
            if (e.TryGetDouble(out double d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) return (int)d;
        }
        throw Wrong(field, "an integer", e);
    }

    public long? TryGetLong(string field)
    {
        if (!TryGetElement(field, out JsonElement e)) return null;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v)) return v;
        throw Wrong(field, "an integer", e);
    }

    /// <summary>An array of integers (e.g. <c>eos_token_id</c> written as a list), or null when absent.</summary>
    public IReadOnlyList<int>? TryGetIntList(string field)
    {
        if (!TryGetElement(field, out JsonElement e)) return null;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int single)) return [single];
        if (e.ValueKind != JsonValueKind.Array) throw Wrong(field, "an integer or an array of integers", e);
        var list = new List<int>();
        foreach (JsonElement x in e.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt32(out int v)) throw Wrong(field, "an array of integers", e);
            list.Add(v);
        }
        return list;
    }

    // ---- floats ----

    public float GetFloat(string field) => TryGetFloat(field) ?? throw Missing(field);

    public float GetFloat(string field, float defaultValue) => TryGetFloat(field) ?? defaultValue;

    public float GetFloatAny(params string[] fields)
    {
        foreach (string f in fields)
            if (TryGetFloat(f) is float v) return v;
        throw Missing(fields);
    }

    public float? TryGetFloat(string field)
    {
        if (!TryGetElement(field, out JsonElement e)) return null;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double d)) return (float)d;
        throw Wrong(field, "a number", e);
    }

    // ---- strings and bools ----

    /// <summary>The string, or null when absent; a non-string value is an error.</summary>
    public string? GetString(string field)
    {
        if (!TryGetElement(field, out JsonElement e)) return null;
        if (e.ValueKind != JsonValueKind.String) throw Wrong(field, "a string", e);
        return e.GetString();
    }

    public string GetString(string field, string defaultValue) => GetString(field) ?? defaultValue;

    public string GetRequiredString(string field) => GetString(field) ?? throw Missing(field);

    /// <summary>The bool, or null when absent; a non-bool value is an error.</summary>
    public bool? GetBool(string field)
    {
        if (!TryGetElement(field, out JsonElement e)) return null;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(field, "true or false", e),
        };
    }

    public bool GetBool(string field, bool defaultValue) => GetBool(field) ?? defaultValue;

    private ModelFormatException Missing(params string[] fields) =>
        new(Source, fields[0], fields.Length == 1
            ? "required field is missing"
            : $"required field is missing (also looked for {string.Join(", ", fields.Skip(1).Select(f => "'" + f + "'"))})");

    private ModelFormatException Wrong(string field, string expected, JsonElement got)
    {
        string text = got.GetRawText();
        if (text.Length > 60) text = text[..60] + "...";
        return new ModelFormatException(Source, field,
            string.Create(CultureInfo.InvariantCulture, $"expected {expected}, got {got.ValueKind.ToString().ToLowerInvariant()} {text}"));
    }

    public override string ToString() => $"HfConfig({Source})";
}
