namespace Vivace.Engine;

/// <summary>Turns what a user names (a directory, or the id of a model Vivace ships) into a model directory.</summary>
public static class ModelResolver
{
    public static bool IsDirectory(string idOrDirectory) => Directory.Exists(idOrDirectory);

    public static string Resolve(string idOrDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrDirectory);
        if (IsDirectory(idOrDirectory)) return Path.GetFullPath(idOrDirectory);
        throw new Formats.ModelFormatException(idOrDirectory, "is neither a model directory nor a model Vivace ships");
    }
}
