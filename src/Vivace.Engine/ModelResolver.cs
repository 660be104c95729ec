using Vivace.Formats.Packaged;

namespace Vivace.Engine;

/// <summary>Turns what a user names (a directory, a single-file checkpoint, or the id of a model Vivace ships) into a path.</summary>
public static class ModelResolver
{
    public static bool IsDirectory(string idOrDirectory) => Directory.Exists(idOrDirectory);

    /// <summary>A directory or an existing file (a GGUF or llama2.c checkpoint) on disk, rather than a packaged model's id.</summary>
    public static bool IsLocalPath(string idOrPath) => Directory.Exists(idOrPath) || File.Exists(idOrPath);

    /// <summary>
    /// A directory or file as-is (full path); a packaged model's id to its directory in the model cache (extracted on
    /// first use).
    /// </summary>
    public static string Resolve(string idOrDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrDirectory);
        if (File.Exists(idOrDirectory)) return Path.GetFullPath(idOrDirectory);
        return ModelCache.ResolveModelDirectory(idOrDirectory);
    }
}
