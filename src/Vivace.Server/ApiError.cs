using System.Text.Json.Serialization;

namespace Vivace.Server;

/// <summary>The error body of the HF and TEI dialects: <c>{"error", "error_type"}</c> (and, while a model
/// loads, <c>estimated_time</c> in seconds, as the HF Inference API answers).</summary>
public sealed record ApiError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_type")] string ErrorType)
{
    [JsonPropertyName("estimated_time")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? EstimatedTime { get; init; }
}

/// <summary>OpenAI's error body: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
public sealed record OpenAiErrorBody([property: JsonPropertyName("error")] OpenAiError Error);

public sealed record OpenAiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);

/// <summary>A client error with its HTTP status; endpoints throw it and one handler turns it into each dialect's body.</summary>
public sealed class ApiException(int status, string message, string errorType) : Exception(message)
{
    public int Status { get; } = status;
    public string ErrorType { get; } = errorType;

    /// <summary>Seconds until a loading model is expected to be ready (503 only).</summary>
    public double? EstimatedTime { get; init; }

    /// <summary>The request field at fault, for OpenAI's "param".</summary>
    public string? Param { get; init; }

    public static ApiException BadRequest(string message, string? param = null) => new(StatusCodes.Status400BadRequest, message, "bad_request") { Param = param };
    public static ApiException Unprocessable(string message, string? param = null) => new(StatusCodes.Status422UnprocessableEntity, message, "Validation") { Param = param };
    public static ApiException NotFound(string message, string? param = null) => new(StatusCodes.Status404NotFound, message, "not_found") { Param = param };
    public static ApiException UnsupportedMediaType(string message) => new(StatusCodes.Status415UnsupportedMediaType, message, "bad_request");
    public static ApiException TooLarge(string message, string? param = null) => new(StatusCodes.Status413PayloadTooLarge, message, "Validation") { Param = param };
    public static ApiException Unauthorized(string message) => new(StatusCodes.Status401Unauthorized, message, "Unauthorized");
    public static ApiException Overloaded(string message) => new(StatusCodes.Status429TooManyRequests, message, "Overloaded");
    public static ApiException Loading(string model, double estimatedSeconds) =>
        new(StatusCodes.Status503ServiceUnavailable, $"Model {model} is currently loading", "Loading") { EstimatedTime = Math.Round(estimatedSeconds, 1) };
}
