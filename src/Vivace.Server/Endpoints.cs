using System.Diagnostics;
using System.Text.Json;
using Vivace.Engine;
using Vivace.Tokenizers;

namespace Vivace.Server;

/// <summary>The routes of the first server: TEI <c>/embed</c>, HF <c>/models/{id}</c> feature-extraction, <c>/health</c>.</summary>
public static class Endpoints
{
    public static void Map(WebApplication app, ServedModels models, ServerOptions options)
    {
        app.MapGet("/health", () => Results.Json(
            new HealthResponse("ok", models.All.Select(m => m.Id).ToArray()), ServerJsonContext.Default.HealthResponse));

        app.MapPost("/embed", async (HttpContext http) =>
        {
            TeiEmbedRequest request = await ReadJsonAsync(http, ServerJsonContext.Default.TeiEmbedRequest);
            (List<string> inputs, _) = ReadInputs(request.Inputs, options);
            var embedOptions = new EmbedOptions
            {
                Normalize = request.Normalize ?? true,
                Truncate = request.Truncate ?? false,
                TruncationDirection = ParseDirection(request.TruncationDirection),
            };
            float[][] vectors = await RunAsync(http, models.Default, inputs, embedOptions);
            return Results.Json(vectors, ServerJsonContext.Default.SingleArrayArray);
        });

        app.MapPost("/models/{**modelId}", async (HttpContext http, string modelId) =>
        {
            ServedModel model = models.Find(modelId);
            HfInferenceRequest request = await ReadJsonAsync(http, ServerJsonContext.Default.HfInferenceRequest);
            (List<string> inputs, bool single) = ReadInputs(request.Inputs, options);
            var embedOptions = new EmbedOptions
            {
                Normalize = request.Parameters?.Normalize,
                Truncate = request.Parameters?.Truncate ?? true,
                TruncationDirection = ParseDirection(request.Parameters?.TruncationDirection),
            };
            float[][] vectors = await RunAsync(http, model, inputs, embedOptions);
            return single
                ? Results.Json(vectors[0], ServerJsonContext.Default.SingleArray)
                : Results.Json(vectors, ServerJsonContext.Default.SingleArrayArray);
        });
    }

    private static async Task<float[][]> RunAsync(HttpContext http, ServedModel model, List<string> inputs, EmbedOptions options)
    {
        var clock = Stopwatch.StartNew();
        float[][] vectors = await model.EmbedAsync(inputs, options, http.RequestAborted);
        http.Response.Headers["x-compute-time"] = clock.Elapsed.TotalSeconds.ToString("F6");
        http.Response.Headers["x-compute-type"] = "cpu";
        http.Response.Headers["x-compute-characters"] = inputs.Sum(s => s.Length).ToString();
        return vectors;
    }

    private static async Task<T> ReadJsonAsync<T>(HttpContext http, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            T? value = await JsonSerializer.DeserializeAsync(http.Request.Body, type, http.RequestAborted);
            return value ?? throw ApiException.Unprocessable("the request body must be a JSON object, not null");
        }
        catch (JsonException e)
        {
            throw ApiException.Unprocessable($"the request body is not valid JSON for this route: {e.Message}");
        }
        catch (InvalidOperationException e) when (e.InnerException is System.Text.DecoderFallbackException or null)
        {
            throw ApiException.BadRequest($"the request body could not be read: {e.Message}");
        }
    }

    /// <summary><c>inputs</c> as a string (single) or a non-empty list of strings.</summary>
    private static (List<string> Inputs, bool Single) ReadInputs(JsonElement inputs, ServerOptions options)
    {
        switch (inputs.ValueKind)
        {
            case JsonValueKind.String:
                return ([ReadString(inputs)], true);
            case JsonValueKind.Array:
                int count = inputs.GetArrayLength();
                if (count == 0) throw ApiException.Unprocessable("'inputs' cannot be empty");
                if (count > options.MaxInputsPerRequest)
                    throw ApiException.TooLarge($"'inputs' has {count} items; the maximum per request is {options.MaxInputsPerRequest}");
                var list = new List<string>(count);
                foreach (JsonElement e in inputs.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.String)
                        throw ApiException.Unprocessable($"'inputs' must be a string or a list of strings; item {list.Count} is {e.ValueKind.ToString().ToLowerInvariant()}");
                    list.Add(ReadString(e));
                }
                return (list, false);
            case JsonValueKind.Undefined:
                throw ApiException.Unprocessable("missing field 'inputs'");
            default:
                throw ApiException.Unprocessable($"'inputs' must be a string or a list of strings, not {inputs.ValueKind.ToString().ToLowerInvariant()}");
        }
    }

    /// <summary>A JSON string's text; invalid UTF-8 inside it is the client's error.</summary>
    private static string ReadString(JsonElement element)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw ApiException.BadRequest("'inputs' holds a string that is not valid UTF-8");
        }
    }

    private static TruncationDirection ParseDirection(string? value) => value?.ToLowerInvariant() switch
    {
        null or "right" => TruncationDirection.Right,
        "left" => TruncationDirection.Left,
        _ => throw ApiException.Unprocessable($"truncation_direction must be \"Left\" or \"Right\", not \"{value}\""),
    };
}
