namespace Vivace.Formats.Packaged;

/// <summary>
/// Where Vivace keeps models it extracts (the packaged MiniLM), and how a model id or directory is resolved.
/// Root: the <c>cacheDir</c> argument, else <c>$VIVACE_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/vivace</c>, else
/// <c>~/.cache/vivace</c> (<c>%LOCALAPPDATA%\vivace</c> on Windows); models go under <c>ROOT/models/</c>.
/// </summary>
public static class ModelCache
{
    public const string CacheDirVariable = "VIVACE_CACHE_DIR";

    /// <summary>The cache root for <paramref name="cacheDir"/> (null: from the environment).</summary>
    public static string GetRoot(string? cacheDir = null)
    {
        if (!string.IsNullOrEmpty(cacheDir)) return Path.GetFullPath(cacheDir);
        string? env = Environment.GetEnvironmentVariable(CacheDirVariable);
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "vivace");
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "vivace");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home)) home = Environment.GetEnvironmentVariable("HOME") ?? Path.GetTempPath();
        return Path.Combine(home, ".cache", "vivace");
    }

    /// <summary><c>ROOT/models</c>.</summary>
    public static string ModelsDirectory(string? cacheDir = null) => Path.Combine(GetRoot(cacheDir), "models");

    /// <summary>
    /// An existing directory is returned as-is (full path); a packaged model's id ("sentence-transformers/all-MiniLM-L6-v2",
    /// "all-MiniLM-L6-v2") resolves to its extracted directory in the cache, extracting it on first use; anything
    /// else throws <see cref="ModelNotFoundException"/>.
    /// </summary>
    public static string ResolveModelDirectory(string idOrDir, string? cacheDir = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrDir);
        if (Directory.Exists(idOrDir)) return Path.GetFullPath(idOrDir);
        if (DefaultModels.IsMiniLmId(idOrDir)) return DefaultModels.EnsureMiniLm(cacheDir);
        throw new ModelNotFoundException(idOrDir,
            $"model '{idOrDir}' is neither a directory nor a known packaged model (known: {DefaultModels.MiniLmId})");
    }

    /// <summary>
    /// Writes a file so that readers never see it partly written: into a unique temporary file beside it, then
    /// renamed over the target (atomic on one file system; concurrent writers of the same content are safe).
    /// </summary>
    public static void WriteAtomic(string path, Action<Stream> write)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static void WriteAtomic(string path, string text) =>
        WriteAtomic(path, s => s.Write(new System.Text.UTF8Encoding(false).GetBytes(text)));
}
