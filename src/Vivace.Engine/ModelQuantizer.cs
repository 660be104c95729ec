using Vivace.Formats;
using Vivace.Formats.Gguf;
using Vivace.Formats.Llama2c;
using Vivace.Models.Decoders;
using Vivace.Tokenizers;

namespace Vivace.Engine;

/// <summary>
/// <c>vivace quantize</c>: writes a decoder as a llama.cpp GGUF file (weights in F32, F16, BF16, Q8_0 or Q4_0,
/// tokenizer included), which Vivace and llama.cpp both load. Sources: an HF checkpoint directory with <c>model_type</c>
/// llama or mistral (GGUF "llama"), qwen2 (GGUF "qwen2") or gpt2 (GGUF "gpt2"), a llama2.c checkpoint with its
/// tokenizer.bin, or a GGUF file (re-quantized; blocks already in the target format are copied).
/// </summary>
public static class ModelQuantizer
{
    public static GgufExportSummary Quantize(string modelPath, string outputPath, GgufTarget target)
    {
        string path = Path.GetFullPath(modelPath);
        if (Path.GetFullPath(outputPath) == path) throw new ArgumentException("the output would overwrite the model; choose another --out");
        switch (CausalLMLoader.Kind(path))
        {
            case CausalLMLoader.CheckpointKind.Llama2c:
            {
                using Llama2cCheckpoint checkpoint = Llama2cCheckpoint.Open(Llama2cLoader.FindCheckpoint(path));
                string tokenizerFile = Llama2cLoader.FindTokenizer(path)
                    ?? throw new ModelFormatException(path, "no tokenizer.bin (or tok*.bin) beside the llama2.c checkpoint");
                int vocab = checkpoint.Config.GetInt("vocab_size");
                return Write(checkpoint, checkpoint.Config, () => Tokenizer.FromLlama2c(tokenizerFile, vocab).ToGgufMetadata(),
                    outputPath, target, Path.GetFileNameWithoutExtension(path));
            }
            case CausalLMLoader.CheckpointKind.Gguf:
            {
                string file = GgufLoader.FindFile(path);
                using GgufCheckpoint checkpoint = GgufCheckpoint.Open(file);
                var tokenizerKeys = checkpoint.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal));
                return Write(checkpoint, checkpoint.Config, () => tokenizerKeys, outputPath, target, Path.GetFileNameWithoutExtension(file));
            }
            case CausalLMLoader.CheckpointKind.HuggingFace:
            {
                if (!Directory.Exists(path)) throw new ModelFormatException(path, "not a model directory, llama2.c checkpoint or GGUF file");
                HfConfig config = HfConfig.Load(Path.Combine(path, "config.json"));
                using IWeightSource weights = WeightSources.Open(path);
                return Write(weights, config, () => HfTokenizerMetadata(path, config), outputPath, target,
                    Path.GetFileName(Path.TrimEndingDirectorySeparator(path)));
            }
            default:
                throw new ModelFormatException(path, "a fused ONNX export cannot be written as GGUF");
        }
    }

    /// <summary>
    /// The GGUF architecture the config's model_type calls for (gpt2, or llama / qwen2), its hyperparameters checked —
    /// and refused where GGUF cannot hold them — before the tokenizer is read.
    /// </summary>
    private static GgufExportSummary Write(IWeightSource weights, HfConfig config, Func<IEnumerable<KeyValuePair<string, object>>> tokenizer,
        string outputPath, GgufTarget target, string name)
    {
        if (config.GetString("model_type") == "gpt2")
        {
            Gpt2GgufConfig gpt2 = Gpt2GgufConfig.FromHf(config);
            return GgufExport.WriteGpt2(outputPath, weights, gpt2, target, tokenizer(), name);
        }
        LlamaGgufConfig llama = LlamaGgufConfig.FromHf(config);
        return GgufExport.Write(outputPath, weights, llama, target, tokenizer(), name);
    }

    /// <summary>
    /// The tokenizer of an HF directory in GGUF keys: a SentencePiece tokenizer.model where there is one (Llama-2 style);
    /// otherwise tokenizer.json (Llama 3's byte-level BPE, for one), which must be a vocabulary
    /// <see cref="Tokenizer.ToGgufMetadata"/> can write. BOS/EOS the vocabulary leaves open come from the model's
    /// config (generation_config.json's first eos id before config.json's, as generation reads them).
    /// </summary>
    private static IReadOnlyDictionary<string, object> HfTokenizerMetadata(string directory, HfConfig config)
    {
        string spm = Path.Combine(directory, "tokenizer.model");
        Tokenizer tokenizer = File.Exists(spm) ? Tokenizer.FromSentencePieceModel(spm) : Tokenizer.FromDirectory(directory);
        IReadOnlyList<long> eos = GenerationSettings.Load(directory, maxNewTokens: 1).EosTokenIds;
        int? bos = config.TryGetIntList("bos_token_id") is [int first, ..] ? first : null;
        return tokenizer.ToGgufMetadata(bos, eos.Count > 0 ? (int)eos[0] : null);
    }
}
