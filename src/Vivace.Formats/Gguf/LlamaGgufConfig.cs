namespace Vivace.Formats.Gguf;

/// <summary>
/// The hyperparameters a Llama-shaped GGUF carries in its <c>{arch}.*</c> keys, in HF terms. Read from a GGUF
/// file (<see cref="Read"/>), from an HF config (<see cref="FromHf"/>), and turned into either (<see cref="ToHfConfig"/>,
/// <see cref="GgufExport"/>).
/// </summary>
/// <param name="RopeLinearFactor">Linear RoPE scaling (positions divided by the factor), or null for none.</param>
/// <param name="Architecture">llama.cpp's architecture: "llama" (Llama, Mistral without a sliding window) or "qwen2"
/// (biases on q, k and v; RoPE on rotated halves, as HF computes it, so its q/k rows are stored in HF order).</param>
/// <param name="RopeFrequencyFactors">llama.cpp's <c>rope_freqs.weight</c>: per rotary frequency, the divisor of its
/// inverse frequency (HeadDim/2 values) — how its converter stores Llama 3.1's "llama3" RoPE scaling; null for none.</param>
public sealed record LlamaGgufConfig(int Hidden, int Intermediate, int Layers, int Heads, int KvHeads, int HeadDim,
    float RmsEps, float RopeTheta, int MaxPositions, int Vocab, bool Tied, double? RopeLinearFactor = null, string Architecture = "llama",
    IReadOnlyList<float>? RopeFrequencyFactors = null)
{
    /// <summary>The llama.cpp architectures of this shape.</summary>
    public static readonly IReadOnlyList<string> Architectures = ["llama", "qwen2"];

    /// <summary>Whether llama.cpp's converter reorders q/k rows into interleaved RoPE pairs (llama only; qwen2 rotates halves).</summary>
    public bool InterleavesRopeRows => Architecture == "llama";

    /// <summary>Reads the <c>llama.*</c> keys; <see cref="Vocab"/> is <c>llama.vocab_size</c> (0 when absent) and
    /// <see cref="Tied"/> false, for the caller to settle from the tensors.</summary>
    public static LlamaGgufConfig Read(GgufFile f)
    {
        string arch = f.GetString("general.architecture")
            ?? throw new ModelFormatException(f.FilePath, "general.architecture", "required key is missing");
        if (!Architectures.Contains(arch))
            throw new ModelFormatException(f.FilePath, "general.architecture", $"'{arch}' is not supported ({string.Join(" and ", Architectures)} GGUF files are)");
        int Int(string key, int? fallback = null)
        {
            long? v = f.GetInteger(key);
            if (v is null)
                return fallback ?? throw new ModelFormatException(f.FilePath, key, "required key is missing");
            if (v is <= 0 or > int.MaxValue) throw new ModelFormatException(f.FilePath, key, $"{v} is out of range");
            return (int)v;
        }
        int hidden = Int($"{arch}.embedding_length"), heads = Int($"{arch}.attention.head_count");
        int kvHeads = Int($"{arch}.attention.head_count_kv", heads);
        if (hidden % heads != 0 && f.GetInteger($"{arch}.attention.key_length") is null)
            throw new ModelFormatException(f.FilePath, $"{arch}.attention.head_count", $"{heads} does not divide embedding_length {hidden}");
        int headDim = Int($"{arch}.attention.key_length", hidden / heads);
        if (Int($"{arch}.attention.value_length", headDim) != headDim)
            throw new ModelFormatException(f.FilePath, $"{arch}.attention.value_length", "differs from key_length; HF Llama has one head_dim");
        if (headDim % 2 != 0) throw new ModelFormatException(f.FilePath, $"{arch}.attention.key_length", $"head size {headDim} is odd; RoPE needs pairs");
        if (heads % kvHeads != 0)
            throw new ModelFormatException(f.FilePath, $"{arch}.attention.head_count_kv", $"{kvHeads} does not divide head_count {heads}");
        if (Int($"{arch}.rope.dimension_count", headDim) != headDim)
            throw new ModelFormatException(f.FilePath, $"{arch}.rope.dimension_count", $"rotating {f.GetInteger($"{arch}.rope.dimension_count")} of {headDim} head dims is not supported");
        double? factor = null;
        string scaling = f.GetString($"{arch}.rope.scaling.type") ?? "none";
        switch (scaling)
        {
            case "none":
                break;
            case "linear":
                double fac = f.GetFloat($"{arch}.rope.scaling.factor")
                    ?? throw new ModelFormatException(f.FilePath, $"{arch}.rope.scaling.factor", "required for linear RoPE scaling");
                if (!(fac > 0)) throw new ModelFormatException(f.FilePath, $"{arch}.rope.scaling.factor", $"must be positive, got {fac}");
                factor = fac == 1 ? null : fac;
                break;
            default:
                throw new ModelFormatException(f.FilePath, $"{arch}.rope.scaling.type", $"'{scaling}' RoPE scaling is not supported (none and linear are)");
        }
        double eps = f.GetFloat($"{arch}.attention.layer_norm_rms_epsilon")
            ?? throw new ModelFormatException(f.FilePath, $"{arch}.attention.layer_norm_rms_epsilon", "required key is missing");
        double theta = f.GetFloat($"{arch}.rope.freq_base") ?? 10000.0;
        long? vocab = f.GetInteger($"{arch}.vocab_size");
        return new LlamaGgufConfig(hidden, Int($"{arch}.feed_forward_length"), Int($"{arch}.block_count"), heads, kvHeads, headDim,
            (float)eps, (float)theta, Int($"{arch}.context_length"), vocab is > 0 and <= int.MaxValue ? (int)vocab : 0, false, factor, arch);
    }

    /// <summary>
    /// From an HF config.json of a Llama (model_type llama, or none: llama2.c), a Mistral or a Qwen2 (rope_theta at the top
    /// or under rope_parameters; linear scaling only). llama.cpp's llama and qwen2 architectures attend to the whole
    /// context, so a model that slides a window over it is refused rather than written as a different model.
    /// </summary>
    public static LlamaGgufConfig FromHf(HfConfig c)
    {
        string modelType = c.GetString("model_type") ?? "llama";
        string arch = modelType switch
        {
            "llama" or "mistral" => "llama",
            "qwen2" => "qwen2",
            _ => throw new ModelFormatException(c.Source, "model_type", $"'{modelType}' cannot be written as GGUF yet (llama, mistral, qwen2 and gpt2 can)"),
        };
        bool slides = c.TryGetElement("layer_types", out var layerTypes) && layerTypes.ValueKind == System.Text.Json.JsonValueKind.Array
            ? layerTypes.EnumerateArray().Any(t => t.GetString() == "sliding_attention")
            : modelType == "mistral" ? c.TryGetInt("sliding_window") is int window && window < c.GetInt("max_position_embeddings", 2048)
            : modelType == "qwen2" && c.GetBool("use_sliding_window", false) && c.TryGetInt("sliding_window") is not null;
        if (slides)
            throw new ModelFormatException(c.Source, "sliding_window", $"a sliding attention window has no equivalent in llama.cpp's {arch} architecture");
        int hidden = c.GetInt("hidden_size"), heads = c.GetInt("num_attention_heads");
        string prefix = c.Has("rope_scaling.factor") || c.Has("rope_scaling.type") || c.Has("rope_scaling.rope_type") ? "rope_scaling." : "rope_parameters.";
        string ropeType = c.GetString(prefix + "rope_type") ?? c.GetString(prefix + "type") ?? "default";
        double? factor = ropeType switch
        {
            "default" or "llama3" => null,
            "linear" => c.GetFloat(prefix + "factor"),
            _ => throw new ModelFormatException(c.Source, prefix + "rope_type", $"'{ropeType}' RoPE scaling has no llama GGUF equivalent here (default, linear and llama3 do)"),
        };
        int headDim = c.GetInt("head_dim", hidden / heads);
        float theta = c.TryGetFloat("rope_parameters.rope_theta") ?? c.GetFloat("rope_theta", 10000f);
        int maxPositions = c.GetInt("max_position_embeddings", 2048);
        float[]? frequencyFactors = ropeType == "llama3"
            ? Llama3FrequencyFactors(headDim, theta, c.GetFloat(prefix + "factor"), c.GetFloat(prefix + "low_freq_factor"), c.GetFloat(prefix + "high_freq_factor"),
                c.TryGetInt("original_max_position_embeddings") ?? c.TryGetInt(prefix + "original_max_position_embeddings") ?? maxPositions)
            : null;
        return new LlamaGgufConfig(hidden, c.GetInt("intermediate_size"), c.GetInt("num_hidden_layers"), heads,
            c.GetInt("num_key_value_heads", heads), headDim, c.GetFloat("rms_norm_eps", 1e-6f), theta,
            maxPositions, c.GetInt("vocab_size"), c.GetBool("tie_word_embeddings", false), factor, arch, frequencyFactors);
    }

    /// <summary>
    /// Llama 3.1's RoPE scaling as per-frequency divisors, as llama.cpp's converter computes them: frequencies whose
    /// wavelength is under original/high_freq_factor stay (1), those over original/low_freq_factor are divided by the
    /// factor, and the band between blends the two (divisor 1 / ((1 − s)/factor + s)). The same inverse frequencies as
    /// transformers' llama3 rope.
    /// </summary>
    public static float[] Llama3FrequencyFactors(int headDim, float theta, double factor, double lowFreqFactor, double highFreqFactor, int originalContext)
    {
        var factors = new float[headDim / 2];
        double lowWavelength = originalContext / lowFreqFactor, highWavelength = originalContext / highFreqFactor;
        for (int i = 0; i < factors.Length; i++)
        {
            float frequency = 1f / MathF.Pow(theta, 2f * i / headDim);
            double wavelength = 2 * Math.PI / frequency;
            if (wavelength < highWavelength) factors[i] = 1f;
            else if (wavelength > lowWavelength) factors[i] = (float)factor;
            else
            {
                double smooth = (originalContext / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                factors[i] = (float)(1 / ((1 - smooth) / factor + smooth));
            }
        }
        return factors;
    }

    /// <summary>The HF Llama config.json these values correspond to; <paramref name="file"/> supplies the source name
    /// and the tokenizer's special token ids when it has them.</summary>
    public HfConfig ToHfConfig(GgufFile file, int vocab, bool tied, bool attentionBias = false, bool mlpBias = false)
    {
        var values = new Dictionary<string, object?>
        {
            ["model_type"] = Architecture,
            ["architectures"] = new[] { Architecture == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM" },
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Intermediate,
            ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads,
            ["num_key_value_heads"] = KvHeads,
            ["head_dim"] = HeadDim,
            ["vocab_size"] = vocab,
            ["max_position_embeddings"] = MaxPositions,
            ["rms_norm_eps"] = GgufHfConfigValues.ShortestDecimal(RmsEps),
            ["rope_theta"] = GgufHfConfigValues.ShortestDecimal(RopeTheta),
            ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = tied,
            // Qwen2's q/k/v biases come with its model type; attention_bias would add one to the output projection too.
            ["attention_bias"] = attentionBias && Architecture != "qwen2",
            ["mlp_bias"] = mlpBias,
        };
        if (RopeLinearFactor is double f) values["rope_scaling"] = new Dictionary<string, object> { ["rope_type"] = "linear", ["factor"] = f };
        if (RopeFrequencyFactors is { } divisors)
        {
            // Per-frequency divisors with cos/sin unscaled are longrope's form with one factor list for every length.
            double[] list = [.. divisors.Select(d => (double)d)];
            values["rope_scaling"] = new Dictionary<string, object>
            {
                ["rope_type"] = "longrope", ["short_factor"] = list, ["long_factor"] = list, ["attention_factor"] = 1.0,
                ["original_max_position_embeddings"] = MaxPositions,
            };
        }
        GgufHfConfigValues.AddSpecialTokenIds(file, values);
        return HfConfig.FromValues(values, file.FilePath);
    }
}
