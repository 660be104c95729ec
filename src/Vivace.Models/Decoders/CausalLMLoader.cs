using Vivace.Formats;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>Loads any supported decoder-only checkpoint by what the path holds.</summary>
public static class CausalLMLoader
{
    /// <summary>
    /// An HF checkpoint directory (config.json + safetensors: GPT-2 or a Llama-family model by <c>model_type</c>); a GPT-2
    /// ONNX export fused by ONNX Runtime (a directory with config.json and one .onnx file, no safetensors); or a llama2.c
    /// checkpoint (a <c>.bin</c> file, or a directory holding one beside its tokenizer); or a llama.cpp GGUF model (a
    /// <c>.gguf</c> file, or a directory holding one and no config.json).
    /// </summary>
    public static ICausalLM Load(string path, ITensorOps ops)
    {
        switch (Kind(path))
        {
            case CheckpointKind.Llama2c:
                return Llama2cLoader.LoadLlama2c(path, ops);
            case CheckpointKind.Gguf:
                return GgufLoader.Load(path, ops);
            case CheckpointKind.FusedOnnxGpt2:
                return OnnxGpt2Loader.Load(Directory.GetFiles(path, "*.onnx").Single(), ops);
            default:
                return Checkpoint.Load<ICausalLM>(path, ops, (hf, scope) => hf.ModelType == "gpt2"
                    ? new Gpt2Model(Gpt2Config.FromHf(hf), scope, hf.GetBool("tie_word_embeddings", true))
                    : new LlamaModel(DecoderConfig.FromHf(hf), scope));
        }
    }

    public enum CheckpointKind { HuggingFace, FusedOnnxGpt2, Llama2c, Gguf }

    /// <summary>What kind of decoder checkpoint <paramref name="path"/> holds (HuggingFace when unsure: its loader explains).</summary>
    public static CheckpointKind Kind(string path)
    {
        if (File.Exists(path))
            return path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) ? CheckpointKind.Llama2c
                : path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? CheckpointKind.Gguf
                : CheckpointKind.HuggingFace;
        if (!Directory.Exists(path)) return CheckpointKind.HuggingFace;
        bool config = File.Exists(Path.Combine(path, "config.json"));
        bool safetensors = Directory.EnumerateFiles(path, "*.safetensors").Any();
        if (config && !safetensors && Directory.GetFiles(path, "*.onnx").Length == 1 && ModelType(path) == "gpt2")
            return CheckpointKind.FusedOnnxGpt2;
        if (!config && Directory.EnumerateFiles(path, "*.bin").Any()) return CheckpointKind.Llama2c;
        if (!config && Directory.EnumerateFiles(path, "*.gguf").Any()) return CheckpointKind.Gguf;
        return CheckpointKind.HuggingFace;
    }

    /// <summary>
    /// Whether <paramref name="path"/> holds a decoder this loader serves (rather than an encoder). A config.json that
    /// cannot be read answers false: the loader that then takes it reports what is wrong.
    /// </summary>
    public static bool IsDecoder(string path)
    {
        try { return IsDecoderUnchecked(path); }
        catch (ModelFormatException) { return false; }
    }

    private static bool IsDecoderUnchecked(string path)
    {
        CheckpointKind kind = Kind(path);
        if (kind != CheckpointKind.HuggingFace) return true;
        string dir = File.Exists(path) ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
        return File.Exists(Path.Combine(dir, "config.json"))
            && ModelType(dir) is string type && (type == "gpt2" || DecoderConfig.ModelTypes.Contains(type));
    }

    /// <summary>config.json's model_type, or the type of an onnxruntime-genai "model" block.</summary>
    private static string? ModelType(string directory)
    {
        HfConfig hf = HfConfig.Load(directory);
        return hf.GetString("model_type") ?? hf.GetString("model.type");
    }
}
