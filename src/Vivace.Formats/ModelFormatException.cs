namespace Vivace.Formats;

/// <summary>
/// A model file (weights, config, ONNX graph, packaged resource) is missing, truncated, malformed or hostile.
/// The message always names the file and, where one applies, the field or tensor at fault.
/// </summary>
public class ModelFormatException : Exception
{
    /// <summary>The file at fault (or the model directory / package), when known.</summary>
    public string? FilePath { get; }

    /// <summary>The field, tensor or key at fault, when one applies.</summary>
    public string? Field { get; }

    /// <summary>The problem alone, without the file and field prefix.</summary>
    public string Reason { get; }

    public ModelFormatException(string? filePath, string? field, string reason, Exception? inner = null)
        : base(Compose(filePath, field, reason), inner)
    {
        FilePath = filePath;
        Field = field;
        Reason = reason;
    }

    public ModelFormatException(string? filePath, string reason, Exception? inner = null)
        : this(filePath, null, reason, inner)
    {
    }

    private static string Compose(string? filePath, string? field, string reason)
    {
        if (filePath is null) return field is null ? reason : $"'{field}': {reason}";
        return field is null ? $"{filePath}: {reason}" : $"{filePath}: '{field}': {reason}";
    }
}

/// <summary>A model id or path names neither an existing directory nor a model Vivace ships.</summary>
public sealed class ModelNotFoundException(string idOrPath, string reason) : ModelFormatException(null, null, reason)
{
    /// <summary>The id or path that was asked for.</summary>
    public string ModelId { get; } = idOrPath;
}
