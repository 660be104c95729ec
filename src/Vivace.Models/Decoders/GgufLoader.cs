using Vivace.Formats;
using Vivace.Formats.Gguf;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>Loads a llama.cpp GGUF model: architecture "llama" or "qwen2" into a <see cref="LlamaModel"/>, "gpt2" into a
/// <see cref="Gpt2Model"/>.</summary>
public static class GgufLoader
{
    /// <summary>
    /// <paramref name="fileOrDirectory"/> is a <c>.gguf</c> file, or a directory holding exactly one. Q8_0/Q4_0 matrices
    /// stay block-quantized (<see cref="ITensorOps.PrepareLinear(QuantizedMatrix, Tensor?)"/>); F32/F16/BF16 ones load as
    /// f32 (and then follow the ops' own linear precision). The weights are copied into the model, so the file closes
    /// on return.
    /// </summary>
    public static ICausalLM Load(string fileOrDirectory, ITensorOps ops)
    {
        using GgufCheckpoint checkpoint = GgufCheckpoint.Open(FindFile(fileOrDirectory));
        return Load(checkpoint, ops);
    }

    /// <summary>The model of an open checkpoint (whose metadata the caller may still use, for the tokenizer).</summary>
    public static ICausalLM Load(GgufCheckpoint checkpoint, ITensorOps ops)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var scope = new WeightScope(checkpoint) { Ops = ops };
        return checkpoint.Architecture == "gpt2"
            ? new Gpt2Model(Gpt2Config.FromHf(checkpoint.Config), scope, checkpoint.Config.GetBool("tie_word_embeddings", true))
            : new LlamaModel(DecoderConfig.FromHf(checkpoint.Config), scope);
    }

    /// <summary>The GGUF file a path names (see <see cref="Load"/>).</summary>
    public static string FindFile(string fileOrDirectory)
    {
        string path = Path.GetFullPath(fileOrDirectory);
        if (File.Exists(path)) return path;
        if (!Directory.Exists(path)) throw new ModelFormatException(path, "no such file or directory");
        string[] files = Directory.GetFiles(path, "*.gguf");
        return files.Length == 1 ? files[0]
            : throw new ModelFormatException(path, files.Length == 0
                ? "no .gguf file in the directory"
                : $"several .gguf files in the directory ({string.Join(", ", files.Select(Path.GetFileName))}); name one");
    }
}
