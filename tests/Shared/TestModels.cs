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
        string golden = SharedData.Require("goldens", "gpt2-small");
        string tokenizer = SharedData.Require("data", "ort-genai", "tiny-random-gpt2", "tokenizer.json");
        lock (Gate)
        {
            if (_gpt2 != null) return _gpt2;
            string dir = Directory.CreateTempSubdirectory("vivace-gpt2-").FullName;
            foreach (string file in new[] { "config.json", "model.safetensors", "generation_config.json" })
                File.CreateSymbolicLink(Path.Combine(dir, file), Path.Combine(golden, file));
            File.CreateSymbolicLink(Path.Combine(dir, "tokenizer.json"), tokenizer);
            return _gpt2 = dir;
        }
    }
}
