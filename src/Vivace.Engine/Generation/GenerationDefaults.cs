using Vivace.Formats;
using Vivace.Models.Decoders;

namespace Vivace.Engine.Generation;

/// <summary>
/// What a model's <c>generation_config.json</c> (falling back to <c>config.json</c>) says about generating: the eos ids
/// that end a sequence, the pad id finished sequences receive in a batch, the bos id, and the default length and
/// sampling a request gets when it does not say.
/// </summary>
public sealed record GenerationDefaults
{
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    public int? BosTokenId { get; init; }
    /// <summary>max_new_tokens, or null where only max_length (prompt included) is set.</summary>
    public int? MaxNewTokens { get; init; }
    /// <summary>max_length (prompt included): transformers' default is 20.</summary>
    public int MaxLength { get; init; } = 20;
    public bool DoSample { get; init; }
    public float? Temperature { get; init; }
    public int? TopK { get; init; }
    public float? TopP { get; init; }
    public float? TypicalP { get; init; }
    public float? MinP { get; init; }
    public float? RepetitionPenalty { get; init; }

    public static GenerationDefaults Load(string directory)
    {
        string generation = Path.Combine(directory, "generation_config.json"), config = Path.Combine(directory, "config.json");
        HfConfig? gen = File.Exists(generation) ? HfConfig.Load(generation) : null;
        HfConfig? cfg = File.Exists(config) ? HfConfig.Load(config) : null;
        GenerationSettings ids = GenerationSettings.Load(directory, 0);
        long? bos = (GenerationSettings.Ids(gen?.Root, "bos_token_id") ?? GenerationSettings.Ids(cfg?.Root, "bos_token_id")) is { Count: > 0 } b ? b[0] : null;
        return new GenerationDefaults
        {
            EosTokenIds = ids.EosTokenIds.Select(x => checked((int)x)).ToArray(),
            PadTokenId = ids.PadTokenId is long pad ? checked((int)pad) : null,
            BosTokenId = bos is long x ? checked((int)x) : null,
            MaxNewTokens = gen?.TryGetInt("max_new_tokens"),
            MaxLength = gen?.TryGetInt("max_length") ?? 20,
            DoSample = gen?.GetBool("do_sample", false) ?? false,
            Temperature = gen?.TryGetFloat("temperature"),
            TopK = gen?.TryGetInt("top_k"),
            TopP = gen?.TryGetFloat("top_p"),
            TypicalP = gen?.TryGetFloat("typical_p"),
            MinP = gen?.TryGetFloat("min_p"),
            RepetitionPenalty = gen?.TryGetFloat("repetition_penalty"),
        };
    }

    /// <summary>These ids as the batched generator takes them.</summary>
    public GenerationSettings ToSettings(int maxNewTokens) =>
        new(maxNewTokens, EosTokenIds.Select(x => (long)x).ToArray(), PadTokenId);
}
