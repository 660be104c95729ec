namespace Vivace.Tests;

/// <summary>Model directories assembled at test time from the shared data (symlinks in a temp folder, nothing copied).</summary>
public static class TestModels
{
    private static readonly Lock Gate = new();
    private static string? _gpt2;

    /// <summary>
    /// The gpt2-small golden checkpoint (random weights, vocab 1000) with the tiny-random-gpt2 byte-level BPE
    /// tokenizer.json (same 1000-token vocabulary): a decoder directory with a real tokenizer, so text goes in and out.
    /// Skips the calling test when the shared data is absent.
    /// </summary>
    public static string Gpt2WithTokenizer()
    {
        SharedData.Require("goldens", "gpt2-small");
        SharedData.Require("data", "ort-genai", "tiny-random-gpt2", "tokenizer.json");
        return TryGpt2WithTokenizer()!;
    }

    /// <summary>As <see cref="Gpt2WithTokenizer"/>, or null when the shared data is absent (for fixtures, which cannot skip).</summary>
    public static string? TryGpt2WithTokenizer()
    {
        if (SharedData.Path is not { } shared) return null;
        string golden = Path.Combine(shared, "goldens", "gpt2-small");
        string tokenizer = Path.Combine(shared, "data", "ort-genai", "tiny-random-gpt2", "tokenizer.json");
        if (!File.Exists(Path.Combine(golden, "model.safetensors")) || !File.Exists(tokenizer)) return null;
        lock (Gate)
        {
            if (_gpt2 != null) return _gpt2;
            // Named like a model (the server serves it under the folder's name); left in place, as links cost nothing.
            string dir = Directory.CreateTempSubdirectory("vivace-tiny-gpt2-").FullName;
            foreach (string file in new[] { "config.json", "model.safetensors", "generation_config.json" })
                File.CreateSymbolicLink(Path.Combine(dir, file), Path.Combine(golden, file));
            File.CreateSymbolicLink(Path.Combine(dir, "tokenizer.json"), tokenizer);
            return _gpt2 = dir;
        }
    }
}
