using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vivace.Server;

/// <summary>OpenAI <c>POST /v1/embeddings</c> request.</summary>
public sealed class OpenAiEmbeddingRequest
{
    /// <summary>A string, a list of strings, a list of token ids or a list of such lists.</summary>
    [JsonPropertyName("input")] public JsonElement Input { get; set; }
    [JsonPropertyName("model")] public string? Model { get; set; }
    /// <summary>"float" (the default) or "base64" (little-endian float32 bytes).</summary>
    [JsonPropertyName("encoding_format")] public string? EncodingFormat { get; set; }
    [JsonPropertyName("dimensions")] public int? Dimensions { get; set; }
    /// <summary>Accepted for compatibility; OpenAI uses it for abuse monitoring, which this server does not do.</summary>
    [JsonPropertyName("user")] public string? User { get; set; }
}

/// <summary>One vector of the answer: <typeparamref name="TVector"/> is <c>float[]</c> or a base64 string.</summary>
public sealed record OpenAiEmbedding<TVector>(
    [property: JsonPropertyName("embedding")] TVector Embedding,
    [property: JsonPropertyName("index")] int Index)
{
    [JsonPropertyName("object")] [JsonPropertyOrder(-1)] public string Object => "embedding";
}

public sealed record OpenAiUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

/// <summary>OpenAI <c>POST /v1/embeddings</c> response.</summary>
public sealed record OpenAiEmbeddingList<TVector>(
    [property: JsonPropertyName("data")] OpenAiEmbedding<TVector>[] Data,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] OpenAiUsage Usage)
{
    [JsonPropertyName("object")] [JsonPropertyOrder(-1)] public string Object => "list";
}

/// <summary>OpenAI's Model object (<c>GET /v1/models/{id}</c>).</summary>
public sealed record OpenAiModel(
    [property: JsonPropertyName("id")] [property: JsonPropertyOrder(-2)] string Id,
    [property: JsonPropertyName("created")] long Created)
{
    [JsonPropertyName("object")] [JsonPropertyOrder(-1)] public string Object => "model";
    [JsonPropertyName("owned_by")] public string OwnedBy => "vivace";
}

/// <summary>OpenAI <c>GET /v1/models</c> response.</summary>
public sealed record OpenAiModelList([property: JsonPropertyName("data")] OpenAiModel[] Data)
{
    [JsonPropertyName("object")] [JsonPropertyOrder(-1)] public string Object => "list";
}

[JsonSerializable(typeof(OpenAiEmbeddingRequest))]
[JsonSerializable(typeof(OpenAiEmbeddingList<float[]>))]
[JsonSerializable(typeof(OpenAiEmbeddingList<string>))]
[JsonSerializable(typeof(OpenAiModel))]
[JsonSerializable(typeof(OpenAiModelList))]
[JsonSourceGenerationOptions(MaxDepth = 64, AllowDuplicateProperties = false)]
public sealed partial class OpenAiJsonContext : JsonSerializerContext;
