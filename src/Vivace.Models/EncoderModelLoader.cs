using Vivace.Formats;
using Vivace.Formats.Onnx;
using Vivace.Formats.Safetensors;
using Vivace.Models.Bert;
using Vivace.Models.DistilBert;
using Vivace.Models.MPNet;
using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>Builds an encoder from an HF model directory: <c>config.json</c> plus safetensors (single or sharded).</summary>
public static class EncoderModelLoader
{
    /// <summary>The HF base-model prefixes a task checkpoint may put before the module tree (BertForX saves "bert.").</summary>
    private static readonly string[] BasePrefixes = ["", "bert.", "roberta.", "distilbert.", "mpnet.", "model.", "camembert."];

    public static IEncoderModel Load(string directory, ITensorOps ops)
    {
        if (!Directory.Exists(directory))
            throw new ModelFormatException(directory, "model directory does not exist");
        string configPath = Path.Combine(directory, "config.json");
        // Models copy what they keep (packed for the backend), so the files can close after construction.
        using IWeightSource weights = OpenWeights(directory);
        HfConfig config = File.Exists(configPath) ? HfConfig.Load(configPath)
            : throw new ModelFormatException(configPath, "config.json is missing from the model directory");
        return Create(config, weights, ops);
    }

    /// <summary>Builds the encoder <paramref name="config"/> describes from <paramref name="weights"/>.</summary>
    public static IEncoderModel Create(HfConfig config, IWeightSource weights, ITensorOps ops)
    {
        EncoderConfig encoder = EncoderConfig.FromHf(config);
        string prefix = BasePrefixes.FirstOrDefault(p => weights.Contains(p + "embeddings.word_embeddings.weight"))
            ?? throw new ModelFormatException(weights.Describe(), "embeddings.word_embeddings.weight",
                "weight is missing (looked for it with the prefixes " + string.Join(", ", BasePrefixes.Select(p => $"'{p}'")) + ")");
        var root = new WeightScope(weights, prefix) { Ops = ops };
        return encoder.ModelType switch
        {
            "distilbert" => new DistilBertModel(encoder, root),
            "mpnet" => new MPNetModel(encoder, root),
            _ => new BertModel(encoder, root),
        };
    }

    /// <summary>
    /// The directory's weights: <c>model.safetensors</c>, the shards <c>model.safetensors.index.json</c> names, or an
    /// ONNX export (<c>model.onnx</c> or <c>onnx/model.onnx</c>) whose initializers are imported under HF names.
    /// </summary>
    public static IWeightSource OpenWeights(string directory)
    {
        string single = Path.Combine(directory, "model.safetensors");
        if (File.Exists(single)) return SafetensorsFile.Open(single);
        string index = Path.Combine(directory, "model.safetensors.index.json");
        if (File.Exists(index)) return ShardedSafetensors.Open(index);
        foreach (string onnx in (string[])[Path.Combine(directory, "model.onnx"), Path.Combine(directory, "onnx", "model.onnx")])
            if (File.Exists(onnx)) return OnnxWeightSource.Open(onnx);
        throw new ModelFormatException(directory,
            "no weights found: expected model.safetensors, model.safetensors.index.json or onnx/model.onnx (pytorch_model.bin is not supported)");
    }
}
