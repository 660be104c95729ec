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
    [JsonPropertyName("prompt_name")] public string? PromptName { get; set; }
    [JsonPropertyName("dimensions")] public int? Dimensions { get; set; }
}

/// <summary>Hugging Face Inference API request: <c>{"inputs", "parameters", "options"}</c>.</summary>
public sealed class HfInferenceRequest
{
    [JsonPropertyName("inputs")] public JsonElement Inputs { get; set; }
    [JsonPropertyName("parameters")] public HfParameters? Parameters { get; set; }
    [JsonPropertyName("options")] public HfOptions? Options { get; set; }
}

/// <summary>feature-extraction and sentence-similarity parameters.</summary>
public sealed class HfParameters
{
    [JsonPropertyName("normalize")] public bool? Normalize { get; set; }
    [JsonPropertyName("truncate")] public bool? Truncate { get; set; }
    [JsonPropertyName("truncation_direction")] public string? TruncationDirection { get; set; }
    [JsonPropertyName("prompt_name")] public string? PromptName { get; set; }
}

public sealed class HfOptions
{
    [JsonPropertyName("use_cache")] public bool? UseCache { get; set; }
    [JsonPropertyName("wait_for_model")] public bool? WaitForModel { get; set; }
}

public sealed record HealthResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("models")] string[] Models,
    [property: JsonPropertyName("loaded")] string[] Loaded);

[JsonSerializable(typeof(TeiEmbedRequest))]
[JsonSerializable(typeof(HfInferenceRequest))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(OpenAiErrorBody))]
[JsonSerializable(typeof(float[]))]
[JsonSerializable(typeof(float[][]))]
[JsonSerializable(typeof(HealthResponse))]
// Duplicate keys are rejected (422), as TEI's serde does: which one wins would be up to the parser.
[JsonSourceGenerationOptions(MaxDepth = 64, AllowDuplicateProperties = false)]
public sealed partial class ServerJsonContext : JsonSerializerContext;
