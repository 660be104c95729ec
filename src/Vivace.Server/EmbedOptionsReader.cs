using Vivace.Engine;
using Vivace.Tokenizers;

namespace Vivace.Server;

/// <summary>The embedding switches the dialects share, read and checked once.</summary>
public static class EmbedOptionsReader
{
    public static EmbedOptions Read(bool? normalize, bool truncate, string? truncationDirection, string? promptName) => new()
    {
        Normalize = normalize,
        Truncate = truncate,
        TruncationDirection = Direction(truncationDirection),
        PromptName = promptName,
    };

    private static TruncationDirection Direction(string? value) => value?.ToLowerInvariant() switch
    {
        null or "right" => TruncationDirection.Right,
        "left" => TruncationDirection.Left,
        _ => throw ApiException.Unprocessable($"truncation_direction must be \"Left\" or \"Right\", not \"{value}\"", "truncation_direction"),
    };
}
