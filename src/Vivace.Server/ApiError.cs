using System.Text.Json.Serialization;

namespace Vivace.Server;

/// <summary>The error body every dialect answers with: <c>{"error", "error_type"}</c>.</summary>
public sealed record ApiError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_type")] string ErrorType);

/// <summary>A client error with its HTTP status; endpoints throw it and one handler turns it into a response.</summary>
public sealed class ApiException(int status, string message, string errorType) : Exception(message)
{
    public int Status { get; } = status;
    public string ErrorType { get; } = errorType;

    public static ApiException BadRequest(string message) => new(StatusCodes.Status400BadRequest, message, "bad_request");
    public static ApiException Unprocessable(string message) => new(StatusCodes.Status422UnprocessableEntity, message, "Validation");
    public static ApiException NotFound(string message) => new(StatusCodes.Status404NotFound, message, "not_found");
    public static ApiException TooLarge(string message) => new(StatusCodes.Status413PayloadTooLarge, message, "Validation");
}
