using System.Text.Json;

namespace Vivace.Server;

/// <summary>A request's inputs: texts, or token ids already made by the model's tokenizer; <see cref="Single"/>
/// when the request sent one bare input (a string, or one flat list of ids), which shapes the answer.</summary>
public sealed record EmbedInputs(IReadOnlyList<string>? Texts, IReadOnlyList<int[]>? Ids, bool Single)
{
    public int Count => Texts?.Count ?? Ids!.Count;

    public long Characters => Texts?.Sum(t => (long)t.Length) ?? 0;
}

/// <summary>Reads the inputs field of the dialects: a string, a list of strings, and (where allowed) a list of
/// token ids or a list of such lists. Every shape or content problem is a 4xx naming the field.</summary>
public static class Inputs
{
    public static EmbedInputs Read(JsonElement value, string field, ServerOptions options, bool allowTokenIds)
    {
        string kinds = allowTokenIds ? "a string, a list of strings, a list of token ids or a list of such lists" : "a string or a list of strings";
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return new EmbedInputs([Text(value, field)], null, true);
            case JsonValueKind.Array:
                int count = value.GetArrayLength();
                if (count == 0) throw ApiException.Unprocessable($"'{field}' cannot be empty", field);
                JsonElement first = value[0];
                if (first.ValueKind == JsonValueKind.Number && allowTokenIds)
                    return new EmbedInputs(null, [TokenIds(value, field)], true);
                if (count > options.MaxInputsPerRequest)
                    throw ApiException.TooLarge($"'{field}' has {count} items; the maximum per request is {options.MaxInputsPerRequest}", field);
                if (first.ValueKind == JsonValueKind.Array && allowTokenIds)
                {
                    var ids = new List<int[]>(count);
                    foreach (JsonElement e in value.EnumerateArray())
                    {
                        if (e.ValueKind != JsonValueKind.Array)
                            throw ApiException.Unprocessable($"'{field}' must be {kinds}; item {ids.Count} is {Kind(e)}", field);
                        ids.Add(TokenIds(e, $"{field}[{ids.Count}]"));
                    }
                    return new EmbedInputs(null, ids, false);
                }
                var texts = new List<string>(count);
                foreach (JsonElement e in value.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.String)
                        throw ApiException.Unprocessable($"'{field}' must be {kinds}; item {texts.Count} is {Kind(e)}", field);
                    texts.Add(Text(e, $"{field}[{texts.Count}]"));
                }
                return new EmbedInputs(texts, null, false);
            case JsonValueKind.Undefined:
                throw ApiException.Unprocessable($"missing field '{field}'", field);
            default:
                throw ApiException.Unprocessable($"'{field}' must be {kinds}, not {Kind(value)}", field);
        }
    }

    /// <summary>A non-empty JSON string's text; invalid UTF-8 inside it is the client's error.</summary>
    public static string Text(JsonElement element, string field)
    {
        string text;
        try
        {
            text = element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw ApiException.BadRequest($"'{field}' holds a string that is not valid UTF-8", field);
        }
        if (text.Length == 0) throw ApiException.Unprocessable($"'{field}' cannot be empty", field);
        return text;
    }

    private static int[] TokenIds(JsonElement list, string field)
    {
        int n = list.GetArrayLength();
        if (n == 0) throw ApiException.Unprocessable($"'{field}' cannot be an empty list of token ids", field);
        var ids = new int[n];
        int i = 0;
        foreach (JsonElement e in list.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int id) || id < 0)
                throw ApiException.Unprocessable($"'{field}' must hold non-negative integer token ids; item {i} is {e.GetRawText()}", field);
            ids[i++] = id;
        }
        return ids;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => "a number",
        JsonValueKind.String => "a string",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
