using System.Text.Json;
using Vivace.Formats;

namespace Vivace.Models.SentenceTransformers;

/// <summary>
/// sentence-transformers' <c>1_Pooling/config.json</c>: which token statistics make the sentence vector. Several
/// modes may be on at once; their vectors are concatenated in sentence-transformers' order
/// (cls, max, mean, mean_sqrt_len, weightedmean, lasttoken).
/// </summary>
public sealed record PoolingConfig
{
    public bool ClsToken { get; init; }
    public bool MaxTokens { get; init; }
    public bool MeanTokens { get; init; }
    public bool MeanSqrtLenTokens { get; init; }
    public bool WeightedMeanTokens { get; init; }
    public bool LastToken { get; init; }
    public int? WordEmbeddingDimension { get; init; }

    public static PoolingConfig Mean => new() { MeanTokens = true };

    public int ModeCount =>
        (ClsToken ? 1 : 0) + (MaxTokens ? 1 : 0) + (MeanTokens ? 1 : 0) + (MeanSqrtLenTokens ? 1 : 0)
        + (WeightedMeanTokens ? 1 : 0) + (LastToken ? 1 : 0);

    public static PoolingConfig Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, $"expected a JSON object");
            var config = new PoolingConfig
            {
                ClsToken = Flag(root, path, "pooling_mode_cls_token"),
                MaxTokens = Flag(root, path, "pooling_mode_max_tokens"),
                MeanTokens = Flag(root, path, "pooling_mode_mean_tokens"),
                MeanSqrtLenTokens = Flag(root, path, "pooling_mode_mean_sqrt_len_tokens"),
                WeightedMeanTokens = Flag(root, path, "pooling_mode_weightedmean_tokens"),
                LastToken = Flag(root, path, "pooling_mode_lasttoken"),
                WordEmbeddingDimension = root.TryGetProperty("word_embedding_dimension", out JsonElement d) && d.ValueKind == JsonValueKind.Number
                    ? d.GetInt32() : null,
            };
            if (root.TryGetProperty("pooling_mode", out JsonElement mode) && mode.ValueKind == JsonValueKind.String && config.ModeCount == 0)
                config = FromModeName(mode.GetString()!, path);
            if (config.WeightedMeanTokens)
                throw new ModelFormatException(path, "pooling_mode_weightedmean_tokens", "weighted mean pooling is not supported yet");
            if (config.ModeCount == 0) throw new ModelFormatException(path, "pooling_mode_mean_tokens", $"no pooling mode is enabled");
            return config;
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"not valid JSON ({e.Message})");
        }
    }

    private static PoolingConfig FromModeName(string mode, string path) => mode switch
    {
        "mean" => new PoolingConfig { MeanTokens = true },
        "cls" => new PoolingConfig { ClsToken = true },
        "max" => new PoolingConfig { MaxTokens = true },
        "mean_sqrt_len_tokens" => new PoolingConfig { MeanSqrtLenTokens = true },
        "lasttoken" => new PoolingConfig { LastToken = true },
        _ => throw new ModelFormatException(path, "pooling_mode", $"'{mode}' is not supported"),
    };

    private static bool Flag(JsonElement root, string path, string field)
    {
        if (!root.TryGetProperty(field, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return false;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelFormatException(path, field, $"must be true or false, got {v.GetRawText()}"),
        };
    }
}
