namespace Vivace.Tests;

/// <summary>Finds the shared test data (../shared next to the repository, or VIVACE_SHARED).</summary>
public static class SharedData
{
    private static readonly Lazy<string?> Root = new(Find);

    /// <summary>The shared folder, or null when it is absent.</summary>
    public static string? Path => Root.Value;

    /// <summary>A path under the shared folder; skips the calling test with a clear reason when absent.</summary>
    public static string Require(params string[] parts)
    {
        Skip.If(Root.Value is null, "shared test data not found: set VIVACE_SHARED or place ../shared beside the repository");
        string p = System.IO.Path.Combine([Root.Value!, .. parts]);
        Skip.IfNot(File.Exists(p) || Directory.Exists(p), $"shared test data missing: {p}");
        return p;
    }

    private static string? Find()
    {
        string? env = Environment.GetEnvironmentVariable("VIVACE_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Vivace.slnx")))
            {
                string candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        }
        return null;
    }
}
