using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vivace.Server;

/// <summary>TEI <c>POST /similarity</c> request. TEI takes the switches in <c>parameters</c>; they are also
/// read at the top level, as <c>/embed</c> takes them (<c>parameters</c> wins where both are given).</summary>
public sealed class TeiSimilarityRequest
{
    /// <summary><c>{"source_sentence", "sentences"}</c>.</summary>
    [JsonPropertyName("inputs")] public JsonElement Inputs { get; set; }
    [JsonPropertyName("parameters")] public TeiSimilarityParameters? Parameters { get; set; }
    [JsonPropertyName("truncate")] public bool? Truncate { get; set; }
    [JsonPropertyName("truncation_direction")] public string? TruncationDirection { get; set; }
    [JsonPropertyName("prompt_name")] public string? PromptName { get; set; }
}

public sealed class TeiSimilarityParameters
{
    [JsonPropertyName("truncate")] public bool? Truncate { get; set; }
    [JsonPropertyName("truncation_direction")] public string? TruncationDirection { get; set; }
    [JsonPropertyName("prompt_name")] public string? PromptName { get; set; }
}

/// <summary>TEI <c>POST /tokenize</c> request.</summary>
public sealed class TeiTokenizeRequest
{
    /// <summary>A string or a list of strings.</summary>
    [JsonPropertyName("inputs")] public JsonElement Inputs { get; set; }
    [JsonPropertyName("add_special_tokens")] public bool? AddSpecialTokens { get; set; }
    [JsonPropertyName("prompt_name")] public string? PromptName { get; set; }
}

/// <summary>One token of a <c>/tokenize</c> answer, as TEI's SimpleToken: start and stop are UTF-8 byte offsets
/// into the input (prompt included), null for special tokens, whose text is the token itself.</summary>
public sealed record TeiToken(
    [property: JsonPropertyName("id")] int Id,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("special")] bool Special,
    [property: JsonPropertyName("start")] int? Start,
    [property: JsonPropertyName("stop")] int? Stop);

/// <summary>TEI <c>POST /decode</c> request.</summary>
public sealed class TeiDecodeRequest
{
    /// <summary>A list of token ids or a list of such lists.</summary>
    [JsonPropertyName("ids")] public JsonElement Ids { get; set; }
    [JsonPropertyName("skip_special_tokens")] public bool? SkipSpecialTokens { get; set; }
}

/// <summary>TEI's <c>GET /info</c>: the served model and the router's limits.</summary>
public sealed record TeiInfo
{
    [JsonPropertyName("model_id")] public required string ModelId { get; init; }
    [JsonPropertyName("model_sha")] public string? ModelSha { get; init; }
    [JsonPropertyName("model_dtype")] public required string ModelDtype { get; init; }
    [JsonPropertyName("model_type")] public required TeiModelType ModelType { get; init; }
    [JsonPropertyName("max_concurrent_requests")] public int MaxConcurrentRequests { get; init; }
    [JsonPropertyName("max_input_length")] public int MaxInputLength { get; init; }
    [JsonPropertyName("max_batch_tokens")] public int MaxBatchTokens { get; init; }
    [JsonPropertyName("max_batch_requests")] public int? MaxBatchRequests { get; init; }
    [JsonPropertyName("max_client_batch_size")] public int MaxClientBatchSize { get; init; }
    [JsonPropertyName("auto_truncate")] public bool AutoTruncate { get; init; }
    [JsonPropertyName("tokenization_workers")] public int TokenizationWorkers { get; init; }
    [JsonPropertyName("version")] public required string Version { get; init; }
    [JsonPropertyName("sha")] public string? Sha { get; init; }
    [JsonPropertyName("docker_label")] public string? DockerLabel { get; init; }
}

/// <summary>TEI's model_type: <c>{"embedding": {"pooling": "mean"}}</c> for an embedding model.</summary>
public sealed record TeiModelType([property: JsonPropertyName("embedding")] TeiEmbeddingModel Embedding);

public sealed record TeiEmbeddingModel([property: JsonPropertyName("pooling")] string Pooling);

[JsonSerializable(typeof(TeiSimilarityRequest))]
[JsonSerializable(typeof(TeiTokenizeRequest))]
[JsonSerializable(typeof(TeiToken[][]))]
[JsonSerializable(typeof(TeiDecodeRequest))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(float[]))]
[JsonSerializable(typeof(TeiInfo))]
[JsonSourceGenerationOptions(MaxDepth = 64, AllowDuplicateProperties = false)]
public sealed partial class TeiToolJsonContext : JsonSerializerContext;
