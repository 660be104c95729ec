using Vivace.Formats.Packaged;

namespace Vivace.Engine;

/// <summary>Turns what a user names (a directory, or the id of a model Vivace ships) into a model directory.</summary>
public static class ModelResolver
{
    public static bool IsDirectory(string idOrDirectory) => Directory.Exists(idOrDirectory);

    /// <summary>A directory as-is; a packaged model's id to its directory in the model cache (extracted on first use).</summary>
    public static string Resolve(string idOrDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrDirectory);
        return ModelCache.ResolveModelDirectory(idOrDirectory);
    }
}
