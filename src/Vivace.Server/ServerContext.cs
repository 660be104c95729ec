using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Vivace.Server;

/// <summary>What every route of one server shares: its models, options, metrics and result cache, and the
/// request plumbing of the dialects (reading bodies, the cache, the wait-for-model and use-cache switches).</summary>
public sealed class ServerContext(ModelRegistry models, ServerOptions options)
{
    public ModelRegistry Models { get; } = models;
    public ServerOptions Options { get; } = options;
    public ServerMetrics Metrics { get; } = new();
    public ResultCache Cache { get; } = new(options.CacheEntries, options.CacheBytes);

    /// <summary>The whole request body (Kestrel bounds its size: 413 beyond <see cref="ServerOptions.MaxRequestBodyBytes"/>).
    /// A body declared as something other than JSON is 415 (as TEI answers); no Content-Type is taken as JSON.</summary>
    public static async Task<byte[]> ReadBodyAsync(HttpContext http)
    {
        if (!string.IsNullOrEmpty(http.Request.ContentType) && !http.Request.HasJsonContentType())
            throw ApiException.UnsupportedMediaType($"the request body must be JSON (Content-Type: application/json), not '{http.Request.ContentType}'");
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        return buffer.ToArray();
    }

    /// <summary>The body as <typeparamref name="T"/>; malformed JSON, wrong types and too deep nesting are 422,
    /// invalid UTF-8 is 400.</summary>
    public static T Parse<T>(byte[] body, JsonTypeInfo<T> type)
    {
        if (body.Length == 0) throw ApiException.Unprocessable("the request body is empty; send a JSON object");
        try
        {
            return JsonSerializer.Deserialize(body, type) ?? throw ApiException.Unprocessable("the request body must be a JSON object, not null");
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 1 } path ? $" at {path}" : "";
            // "$.dimensions" → "dimensions", the field OpenAI's error names as its "param".
            string? field = e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : null;
            // A field the route does not know (the request types that list every field refuse others): name it.
            if (System.Text.RegularExpressions.Regex.Match(e.Message, "The JSON property '([^']*)' could not be mapped") is { Success: true } unknown)
            {
                // The path may stop at the object or name the field itself: "parameters.foo" either way.
                string key = unknown.Groups[1].Value;
                string name = field is null ? key : field == key || field.EndsWith("." + key, StringComparison.Ordinal) ? field : $"{field}.{key}";
                throw ApiException.Unprocessable($"unknown field '{name}' (see this route's request fields)", name);
            }
            // A value of the wrong type: say so in the API's terms, not .NET's type names.
            if (field != null && e.Message.Contains("could not be converted", StringComparison.Ordinal))
                throw ApiException.Unprocessable($"'{field}' has the wrong type (see this route's request fields)", field);
            throw ApiException.Unprocessable($"the request body is not valid JSON for this route{where}: {FirstSentence(e.Message)}", field);
        }
        catch (InvalidOperationException e)
        {
            throw ApiException.BadRequest($"the request body could not be read: {FirstSentence(e.Message)}");
        }
        catch (ArgumentException e)
        {
            throw ApiException.BadRequest($"the request body is not valid UTF-8: {FirstSentence(e.Message)}");
        }
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..(end + 1)] : message;
    }

    /// <summary>Whether to wait for a loading model: the request's own switch, else the x-wait-for-model header,
    /// else <paramref name="fallback"/> (HF: false, answering 503; TEI and OpenAI: true).</summary>
    public static bool WaitForModel(HttpContext http, bool? requested, bool fallback) =>
        requested ?? HeaderFlag(http, "x-wait-for-model") ?? fallback;

    /// <summary>Whether the result cache may answer: the request's own switch, else the x-use-cache header, else on.</summary>
    public static bool UseCache(HttpContext http, bool? requested) => requested ?? HeaderFlag(http, "x-use-cache") ?? true;

    private static bool? HeaderFlag(HttpContext http, string name) =>
        http.Request.Headers.TryGetValue(name, out var v) && v.Count > 0
            ? v[0]!.Trim().ToLowerInvariant() switch
            {
                "1" or "true" or "yes" => true,
                "0" or "false" or "no" => false,
                _ => throw ApiException.BadRequest($"header {name} must be true or false, not '{v[0]}'"),
            }
            : null;

    /// <summary>Answers from the cache when it holds this request's result; otherwise computes it, stores it
    /// and answers. The key is the route, the model and a hash of the exact body.</summary>
    public async Task<IResult> CachedAsync(HttpContext http, string route, string modelId, byte[] body, bool useCache, Func<Task<byte[]>> compute)
    {
        string? key = null;
        if (useCache && Cache.Enabled)
        {
            key = $"{route}\n{modelId}\n{Convert.ToHexString(SHA256.HashData(body))}";
            if (Cache.TryGet(key, out byte[] hit))
            {
                Metrics.CacheLookups.WithLabels("hit").Inc();
                http.Response.Headers["x-cache"] = "hit";
                return Results.Bytes(hit, "application/json");
            }
            Metrics.CacheLookups.WithLabels("miss").Inc();
        }
        byte[] response = await compute();
        if (key != null) Cache.Add(key, response);
        http.Response.Headers["x-cache"] = key != null ? "miss" : "off";
        return Results.Bytes(response, "application/json");
    }

    public static byte[] Json<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
