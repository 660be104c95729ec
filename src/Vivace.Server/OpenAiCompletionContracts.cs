using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vivace.Server;

/// <summary>OpenAI <c>POST /v1/completions</c> request. Every field OpenAI defines is listed; others are refused.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed class OpenAiCompletionRequest
{
    [JsonPropertyName("model")] public string? Model { get; set; }
    /// <summary>A string, a list of one string, a list of token ids, or a list of one such list.</summary>
    [JsonPropertyName("prompt")] public JsonElement Prompt { get; set; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; set; }
    [JsonPropertyName("temperature")] public float? Temperature { get; set; }
    [JsonPropertyName("top_p")] public float? TopP { get; set; }
    [JsonPropertyName("n")] public int? N { get; set; }
    [JsonPropertyName("stream")] public bool? Stream { get; set; }
    [JsonPropertyName("stream_options")] public JsonElement? StreamOptions { get; set; }
    /// <summary>A string or a list of up to 4 strings.</summary>
    [JsonPropertyName("stop")] public JsonElement Stop { get; set; }
    [JsonPropertyName("seed")] public ulong? Seed { get; set; }
    [JsonPropertyName("presence_penalty")] public float? PresencePenalty { get; set; }
    [JsonPropertyName("frequency_penalty")] public float? FrequencyPenalty { get; set; }
    [JsonPropertyName("logprobs")] public int? Logprobs { get; set; }
    [JsonPropertyName("echo")] public bool? Echo { get; set; }
    [JsonPropertyName("best_of")] public int? BestOf { get; set; }
    [JsonPropertyName("logit_bias")] public JsonElement? LogitBias { get; set; }
    /// <summary>Accepted for compatibility; OpenAI uses it for abuse monitoring, which this server does not do.</summary>
    [JsonPropertyName("user")] public string? User { get; set; }
    /// <summary>Insertion: not supported (a non-null suffix is refused).</summary>
    [JsonPropertyName("suffix")] public string? Suffix { get; set; }
}

/// <summary>OpenAI's legacy logprobs object of a completion choice.</summary>
public sealed record OpenAiLogprobs(
    [property: JsonPropertyName("tokens")] string[] Tokens,
    [property: JsonPropertyName("token_logprobs")] float[] TokenLogprobs,
    [property: JsonPropertyName("top_logprobs")] Dictionary<string, float>[] TopLogprobs,
    [property: JsonPropertyName("text_offset")] int[] TextOffset);

public sealed record OpenAiCompletionChoice(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("logprobs")] OpenAiLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);

public sealed record OpenAiCompletionUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

/// <summary>OpenAI <c>POST /v1/completions</c> response, and each chunk of its stream (without usage).</summary>
public sealed record OpenAiCompletion
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string Object => "text_completion";
    [JsonPropertyName("created")] public long Created { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("choices")] public required OpenAiCompletionChoice[] Choices { get; init; }
    [JsonPropertyName("usage")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public OpenAiCompletionUsage? Usage { get; init; }
}

[JsonSerializable(typeof(OpenAiCompletionRequest))]
[JsonSerializable(typeof(OpenAiCompletion))]
[JsonSourceGenerationOptions(MaxDepth = 64, AllowDuplicateProperties = false)]
public sealed partial class OpenAiCompletionJsonContext : JsonSerializerContext;
