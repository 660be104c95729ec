using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vivace.Server;

/// <summary>TGI <c>POST /generate</c>, <c>/generate_stream</c> and <c>/</c> request.</summary>
public sealed class TgiGenerateRequest
{
    [JsonPropertyName("inputs")] public JsonElement Inputs { get; set; }
    [JsonPropertyName("parameters")] public TgiParameters? Parameters { get; set; }
    /// <summary>Only on <c>POST /</c>: stream (as /generate_stream) or not (as /generate).</summary>
    [JsonPropertyName("stream")] public bool? Stream { get; set; }
}

/// <summary>TGI's generation parameters. Every field TGI knows is listed; any other is refused (422), so a typo does
/// not pass silently.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed class TgiParameters
{
    [JsonPropertyName("best_of")] public int? BestOf { get; set; }
    [JsonPropertyName("decoder_input_details")] public bool? DecoderInputDetails { get; set; }
    [JsonPropertyName("details")] public bool? Details { get; set; }
    [JsonPropertyName("do_sample")] public bool? DoSample { get; set; }
    [JsonPropertyName("frequency_penalty")] public float? FrequencyPenalty { get; set; }
    [JsonPropertyName("max_new_tokens")] public int? MaxNewTokens { get; set; }
    [JsonPropertyName("repetition_penalty")] public float? RepetitionPenalty { get; set; }
    [JsonPropertyName("return_full_text")] public bool? ReturnFullText { get; set; }
    [JsonPropertyName("seed")] public ulong? Seed { get; set; }
    [JsonPropertyName("stop")] public string[]? Stop { get; set; }
    [JsonPropertyName("temperature")] public float? Temperature { get; set; }
    [JsonPropertyName("top_k")] public int? TopK { get; set; }
    [JsonPropertyName("top_n_tokens")] public int? TopNTokens { get; set; }
    [JsonPropertyName("top_p")] public float? TopP { get; set; }
    [JsonPropertyName("truncate")] public int? Truncate { get; set; }
    [JsonPropertyName("typical_p")] public float? TypicalP { get; set; }
    [JsonPropertyName("watermark")] public bool? Watermark { get; set; }
    /// <summary>Structured generation: not supported (422 when given).</summary>
    [JsonPropertyName("grammar")] public JsonElement? Grammar { get; set; }
    /// <summary>LoRA adapters: not supported (422 when given).</summary>
    [JsonPropertyName("adapter_id")] public string? AdapterId { get; set; }
}

/// <summary>A token as TGI reports it.</summary>
public sealed record TgiToken(
    [property: JsonPropertyName("id")] int Id,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("logprob")] float? Logprob,
    [property: JsonPropertyName("special")] bool Special);

/// <summary>TGI's details of a finished generation.</summary>
public sealed record TgiDetails
{
    [JsonPropertyName("finish_reason")] public required string FinishReason { get; init; }
    [JsonPropertyName("generated_tokens")] public int GeneratedTokens { get; init; }
    [JsonPropertyName("seed")] public ulong? Seed { get; init; }
    [JsonPropertyName("prefill")] public TgiToken[] Prefill { get; init; } = [];
    [JsonPropertyName("tokens")] public required TgiToken[] Tokens { get; init; }
    [JsonPropertyName("top_tokens")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TgiToken[][]? TopTokens { get; init; }
}

/// <summary>TGI <c>POST /generate</c> response.</summary>
public sealed record TgiGenerateResponse(
    [property: JsonPropertyName("generated_text")] string GeneratedText,
    [property: JsonPropertyName("details")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TgiDetails? Details);

/// <summary>The details on the last event of <c>/generate_stream</c>.</summary>
public sealed record TgiStreamDetails(
    [property: JsonPropertyName("finish_reason")] string FinishReason,
    [property: JsonPropertyName("generated_tokens")] int GeneratedTokens,
    [property: JsonPropertyName("seed")] ulong? Seed,
    [property: JsonPropertyName("input_length")] int InputLength);

/// <summary>One server-sent event of <c>/generate_stream</c>: a token; the last also the whole text and details.</summary>
public sealed record TgiStreamResponse
{
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("token")] public required TgiToken Token { get; init; }
    [JsonPropertyName("top_tokens")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TgiToken[]? TopTokens { get; init; }
    [JsonPropertyName("generated_text")] public string? GeneratedText { get; init; }
    [JsonPropertyName("details")] public TgiStreamDetails? Details { get; init; }
}

/// <summary>Hugging Face Inference API text-generation parameters (a subset of TGI's, with return_full_text on by
/// default and num_return_sequences).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed class HfGenerationParameters
{
    [JsonPropertyName("do_sample")] public bool? DoSample { get; set; }
    [JsonPropertyName("max_new_tokens")] public int? MaxNewTokens { get; set; }
    [JsonPropertyName("num_return_sequences")] public int? NumReturnSequences { get; set; }
    [JsonPropertyName("repetition_penalty")] public float? RepetitionPenalty { get; set; }
    [JsonPropertyName("return_full_text")] public bool? ReturnFullText { get; set; }
    [JsonPropertyName("seed")] public ulong? Seed { get; set; }
    [JsonPropertyName("stop")] public string[]? Stop { get; set; }
    [JsonPropertyName("temperature")] public float? Temperature { get; set; }
    [JsonPropertyName("top_k")] public int? TopK { get; set; }
    [JsonPropertyName("top_p")] public float? TopP { get; set; }
    [JsonPropertyName("truncate")] public int? Truncate { get; set; }
    [JsonPropertyName("typical_p")] public float? TypicalP { get; set; }
}

/// <summary>Hugging Face Inference API text-generation request.</summary>
public sealed class HfGenerationRequest
{
    [JsonPropertyName("inputs")] public JsonElement Inputs { get; set; }
    [JsonPropertyName("parameters")] public HfGenerationParameters? Parameters { get; set; }
    [JsonPropertyName("options")] public HfOptions? Options { get; set; }
}

public sealed record HfGeneratedText([property: JsonPropertyName("generated_text")] string GeneratedText);

/// <summary>TGI's <c>GET /info</c>, for a text-generation model.</summary>
public sealed record TgiInfo
{
    [JsonPropertyName("model_id")] public required string ModelId { get; init; }
    [JsonPropertyName("model_sha")] public string? ModelSha { get; init; }
    [JsonPropertyName("model_dtype")] public required string ModelDtype { get; init; }
    [JsonPropertyName("model_device_type")] public required string ModelDeviceType { get; init; }
    [JsonPropertyName("model_pipeline_tag")] public string ModelPipelineTag => "text-generation";
    [JsonPropertyName("max_concurrent_requests")] public int MaxConcurrentRequests { get; init; }
    [JsonPropertyName("max_best_of")] public int MaxBestOf => 1;
    [JsonPropertyName("max_stop_sequences")] public int MaxStopSequences { get; init; }
    [JsonPropertyName("max_input_tokens")] public int MaxInputTokens { get; init; }
    [JsonPropertyName("max_total_tokens")] public int MaxTotalTokens { get; init; }
    [JsonPropertyName("validation_workers")] public int ValidationWorkers { get; init; }
    [JsonPropertyName("max_client_batch_size")] public int MaxClientBatchSize => 1;
    [JsonPropertyName("router")] public string Router => "vivace";
    [JsonPropertyName("version")] public required string Version { get; init; }
    [JsonPropertyName("sha")] public string? Sha { get; init; }
    [JsonPropertyName("docker_label")] public string? DockerLabel { get; init; }
}

[JsonSerializable(typeof(TgiGenerateRequest))]
[JsonSerializable(typeof(TgiGenerateResponse))]
[JsonSerializable(typeof(TgiGenerateResponse[]))]
[JsonSerializable(typeof(TgiStreamResponse))]
[JsonSerializable(typeof(HfGenerationRequest))]
[JsonSerializable(typeof(HfGeneratedText[]))]
[JsonSerializable(typeof(TgiInfo))]
[JsonSerializable(typeof(ApiError))]
// Duplicate keys are rejected (422): which one wins would be up to the parser.
[JsonSourceGenerationOptions(MaxDepth = 64, AllowDuplicateProperties = false)]
public sealed partial class TgiJsonContext : JsonSerializerContext;
