using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vivace.Server;

/// <summary>TEI <c>POST /embed</c> request.</summary>
public sealed class TeiEmbedRequest
{
    [JsonPropertyName("inputs")] public JsonElement Inputs { get; set; }
    [JsonPropertyName("normalize")] public bool? Normalize { get; set; }
    [JsonPropertyName("truncate")] public bool? Truncate { get; set; }
    [JsonPropertyName("truncation_direction")] public string? TruncationDirection { get; set; }
}

/// <summary>Hugging Face Inference API request: <c>{"inputs", "parameters", "options"}</c>.</summary>
public sealed class HfInferenceRequest
{
    [JsonPropertyName("inputs")] public JsonElement Inputs { get; set; }
    [JsonPropertyName("parameters")] public HfFeatureExtractionParameters? Parameters { get; set; }
    [JsonPropertyName("options")] public HfOptions? Options { get; set; }
}

public sealed class HfFeatureExtractionParameters
{
    [JsonPropertyName("normalize")] public bool? Normalize { get; set; }
    [JsonPropertyName("truncate")] public bool? Truncate { get; set; }
    [JsonPropertyName("truncation_direction")] public string? TruncationDirection { get; set; }
}

public sealed class HfOptions
{
    [JsonPropertyName("use_cache")] public bool? UseCache { get; set; }
    [JsonPropertyName("wait_for_model")] public bool? WaitForModel { get; set; }
}

[JsonSerializable(typeof(TeiEmbedRequest))]
[JsonSerializable(typeof(HfInferenceRequest))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(float[]))]
[JsonSerializable(typeof(float[][]))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSourceGenerationOptions(MaxDepth = 64)]
public sealed partial class ServerJsonContext : JsonSerializerContext;

public sealed record HealthResponse([property: JsonPropertyName("status")] string Status, [property: JsonPropertyName("models")] string[] Models);
