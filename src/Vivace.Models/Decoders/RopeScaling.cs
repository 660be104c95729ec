using System.Text.Json;
using Vivace.Formats;

namespace Vivace.Models.Decoders;

/// <summary>
/// A decoder's RoPE variant and its parameters, read from an HF <c>config.json</c> as transformers 5.17 standardizes
/// them (<c>RotaryEmbeddingConfigMixin.convert_rope_params_to_dict</c> / <c>standardize_rope_params</c> in
/// modeling_rope_utils.py): the legacy <c>rope_scaling</c> dict wins over <c>rope_parameters</c> when both are present;
/// <c>rope_type</c> falls back to the legacy key <c>type</c>, then <c>"default"</c>; <c>partial_rotary_factor</c> to the
/// top-level field; and for llama3 / yarn / longrope <c>original_max_position_embeddings</c> is the top-level field when
/// there is one (Phi-3 keeps it there), else the dict's, else <c>max_position_embeddings</c>.
/// <see cref="Rope"/> turns it into inverse frequencies; values stay double where transformers computes in Python floats.
/// </summary>
public sealed record RopeScaling
{
    /// <summary>The types <see cref="Rope"/> implements (transformers' <c>ROPE_INIT_FUNCTIONS</c> keys, less "proportional", plus "default").</summary>
    public static readonly IReadOnlyList<string> SupportedTypes = ["default", "linear", "dynamic", "yarn", "longrope", "llama3"];

    /// <summary>Unscaled rope over the whole head.</summary>
    public static RopeScaling Default { get; } = new();

    /// <summary><c>rope_type</c>: default, linear, dynamic, yarn, longrope or llama3.</summary>
    public string Type { get; init; } = "default";

    /// <summary><c>factor</c>. Required by linear, dynamic, llama3; yarn/longrope derive it from max / original max positions when absent.</summary>
    public double? Factor { get; init; }

    /// <summary>The top-level <c>max_position_embeddings</c> (transformers' LlamaConfig default 2048 when absent). Dynamic NTK's threshold.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;

    /// <summary>The pretraining context length (llama3, yarn, longrope); null for the other types.</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }

    /// <summary>llama3: <c>low_freq_factor</c> and <c>high_freq_factor</c>.</summary>
    public double? LowFreqFactor { get; init; }
    public double? HighFreqFactor { get; init; }

    /// <summary>yarn: <c>beta_fast</c> / <c>beta_slow</c> (0 or absent → 32 / 1, as transformers' <c>or</c> defaults).</summary>
    public double? BetaFast { get; init; }
    public double? BetaSlow { get; init; }

    /// <summary>yarn / longrope: explicit cos/sin scale; inferred from the factor when absent.</summary>
    public double? AttentionFactor { get; init; }

    /// <summary>yarn (DeepSeek style): <c>mscale</c> and <c>mscale_all_dim</c>; used only when both are non-zero.</summary>
    public double? Mscale { get; init; }
    public double? MscaleAllDim { get; init; }

    /// <summary>yarn: <c>truncate</c> (default true) floors/ceils the correction range.</summary>
    public bool Truncate { get; init; } = true;

    /// <summary>longrope: per-frequency divisors for sequences up to / beyond the original context.</summary>
    public IReadOnlyList<double>? ShortFactor { get; init; }
    public IReadOnlyList<double>? LongFactor { get; init; }

    /// <summary><c>partial_rotary_factor</c>: only the first <c>int(headDim · factor)</c> dims of each head rotate.</summary>
    public double PartialRotaryFactor { get; init; } = 1.0;

    public static RopeScaling FromHf(HfConfig c)
    {
        // transformers: `self.rope_parameters = rope_scaling or self.rope_parameters`.
        string prefix = c.TryGetElement("rope_scaling", out JsonElement legacy) && legacy.ValueKind == JsonValueKind.Object
            && legacy.EnumerateObject().Any() ? "rope_scaling." : "rope_parameters.";
        string type = c.GetString(prefix + "rope_type") ?? c.GetString(prefix + "type") ?? "default";
        if (!SupportedTypes.Contains(type))
            throw new ModelFormatException(c.Source, prefix + "rope_type",
                $"'{type}' is not supported (supported: {string.Join(", ", SupportedTypes)})");
        int maxPositions = c.TryGetInt("max_position_embeddings") ?? 2048;
        int? originalMax = type is "llama3" or "yarn" or "longrope"
            ? c.TryGetInt("original_max_position_embeddings") ?? c.TryGetInt(prefix + "original_max_position_embeddings") ?? maxPositions
            : null;
        var s = new RopeScaling
        {
            Type = type,
            Factor = Double(c, prefix + "factor"),
            MaxPositionEmbeddings = maxPositions,
            OriginalMaxPositionEmbeddings = originalMax,
            LowFreqFactor = Double(c, prefix + "low_freq_factor"),
            HighFreqFactor = Double(c, prefix + "high_freq_factor"),
            BetaFast = Double(c, prefix + "beta_fast"),
            BetaSlow = Double(c, prefix + "beta_slow"),
            AttentionFactor = Double(c, prefix + "attention_factor"),
            Mscale = Double(c, prefix + "mscale"),
            MscaleAllDim = Double(c, prefix + "mscale_all_dim"),
            Truncate = c.GetBool(prefix + "truncate", true),
            ShortFactor = Doubles(c, prefix + "short_factor"),
            LongFactor = Doubles(c, prefix + "long_factor"),
            PartialRotaryFactor = Double(c, prefix + "partial_rotary_factor") ?? Double(c, "partial_rotary_factor") ?? 1.0,
        };
        string? missing = s.MissingField();
        if (missing != null) throw new ModelFormatException(c.Source, prefix + missing, $"is required for rope_type '{type}'");
        if (s.Factor is double f && !(f > 0)) throw new ModelFormatException(c.Source, prefix + "factor", $"must be positive, got {f}");
        if (!(s.PartialRotaryFactor > 0 && s.PartialRotaryFactor <= 1))
            throw new ModelFormatException(c.Source, "partial_rotary_factor", $"must be in (0, 1], got {s.PartialRotaryFactor}");
        return s;
    }

    /// <summary>The first required field this type lacks (transformers' <c>_validate_*_rope_parameters</c>), or null.</summary>
    internal string? MissingField() => Type switch
    {
        "linear" or "dynamic" when Factor is null => "factor",
        "llama3" when Factor is null => "factor",
        "llama3" when LowFreqFactor is null => "low_freq_factor",
        "llama3" when HighFreqFactor is null => "high_freq_factor",
        "longrope" when ShortFactor is null => "short_factor",
        "longrope" when LongFactor is null => "long_factor",
        _ => null,
    };

    private static double? Double(HfConfig c, string field)
    {
        if (!c.TryGetElement(field, out JsonElement e)) return null;
        if (e.ValueKind == JsonValueKind.Number) return e.GetDouble();
        throw new ModelFormatException(c.Source, field, $"expected a number, got {e.ValueKind}");
    }

    private static double[]? Doubles(HfConfig c, string field)
    {
        if (!c.TryGetElement(field, out JsonElement e)) return null;
        if (e.ValueKind != JsonValueKind.Array || e.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Number))
            throw new ModelFormatException(c.Source, field, "expected an array of numbers");
        return e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
    }
}
