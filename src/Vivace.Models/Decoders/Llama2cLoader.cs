using Vivace.Formats;
using Vivace.Formats.Llama2c;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>Loads a llama2.c checkpoint (<c>run.c</c>'s <c>.bin</c>) into a <see cref="LlamaModel"/>.</summary>
public static class Llama2cLoader
{
    /// <summary>
    /// <paramref name="fileOrDirectory"/> is a <c>.bin</c> checkpoint, or a directory holding exactly one <c>.bin</c>
    /// that is not a tokenizer (llama2.c directories keep <c>tokenizer.bin</c>/<c>tok512.bin</c> beside the model).
    /// The weights are copied into the model, so the file is closed on return.
    /// </summary>
    public static LlamaModel LoadLlama2c(string fileOrDirectory, ITensorOps ops)
    {
        using Llama2cCheckpoint checkpoint = Llama2cCheckpoint.Open(FindCheckpoint(fileOrDirectory));
        return new LlamaModel(DecoderConfig.FromHf(checkpoint.Config), new WeightScope(checkpoint) { Ops = ops });
    }

    /// <summary>The checkpoint file a path names (see <see cref="LoadLlama2c"/>).</summary>
    public static string FindCheckpoint(string fileOrDirectory)
    {
        string path = Path.GetFullPath(fileOrDirectory);
        if (File.Exists(path)) return path;
        if (!Directory.Exists(path)) throw new ModelFormatException(path, "no such file or directory");
        string[] candidates = Directory.GetFiles(path, "*.bin")
            .Where(f => !IsTokenizerName(Path.GetFileName(f)))
            .ToArray();
        return candidates.Length == 1 ? candidates[0]
            : throw new ModelFormatException(path, candidates.Length == 0
                ? "no llama2.c checkpoint (*.bin other than a tokenizer) in the directory"
                : $"several llama2.c checkpoints in the directory ({string.Join(", ", candidates.Select(Path.GetFileName))}); name one");
    }

    /// <summary>The tokenizer file beside a llama2.c checkpoint: <c>tokenizer.bin</c> or <c>tok*.bin</c>, or null.</summary>
    public static string? FindTokenizer(string fileOrDirectory)
    {
        string path = Path.GetFullPath(fileOrDirectory);
        string dir = Directory.Exists(path) ? path : Path.GetDirectoryName(path)!;
        string[] found = Directory.GetFiles(dir, "*.bin").Where(f => IsTokenizerName(Path.GetFileName(f))).Order().ToArray();
        return found.Length == 1 ? found[0] : found.FirstOrDefault(f => Path.GetFileName(f) == "tokenizer.bin");
    }

    private static bool IsTokenizerName(string name) =>
        name == "tokenizer.bin" || (name.StartsWith("tok", StringComparison.Ordinal) && !name.StartsWith("tokenizer", StringComparison.Ordinal)
            && name.Length > 7 && char.IsAsciiDigit(name[3]));
}
