using Vivace.Formats;
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
        using IWeightSource weights = WeightSources.Open(directory);
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
}
