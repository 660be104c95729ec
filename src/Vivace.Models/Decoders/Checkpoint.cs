using Vivace.Formats;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>Opens an HF checkpoint directory (config.json + safetensors) for a model constructor. Models copy what
/// they keep, so the weight files close once construction is done.</summary>
internal static class Checkpoint
{
    public static T Load<T>(string directory, ITensorOps ops, Func<HfConfig, WeightScope, T> build)
    {
        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath))
            throw new ModelFormatException(configPath, "config.json is missing from the model directory");
        HfConfig hf = HfConfig.Load(configPath);
        using IWeightSource weights = WeightSources.Open(directory);
        return build(hf, new WeightScope(weights) { Ops = ops });
    }
}
