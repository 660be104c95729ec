namespace Vivace.Engine;

/// <summary>A request the engine cannot serve as given (too long, empty, malformed): the caller's fault, a 4xx.</summary>
public sealed class InvalidInputException(string message, bool tooLong = false) : Exception(message)
{
    /// <summary>The input is longer than the model takes (TEI answers 413 for this).</summary>
    public bool TooLong { get; } = tooLong;

    /// <summary>A parameter check's failure as a client error, its message without .NET's " (Parameter 'x')" suffix.</summary>
    public static InvalidInputException From(ArgumentException e) =>
        new(e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "") : e.Message);
}
