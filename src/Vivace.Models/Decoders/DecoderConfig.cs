using Vivace.Formats;

namespace Vivace.Models.Decoders;

/// <summary>
/// The fields of an HF decoder-only <c>config.json</c> of the Llama family a forward pass needs: Llama, Mistral (sliding
/// window), Qwen2 (q/k/v bias), Phi-3 (fused qkv and gate_up weights, found by name at load) and Gemma (RMSNorm scaled by
/// 1 + weight, embeddings scaled by √hidden, GELU-tanh gate). The variants differ only in these fields.
/// </summary>
public sealed record DecoderConfig
{
    public required string ModelType { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KeyValueHeads { get; init; }
    public required int HeadDim { get; init; }
    public required float RmsNormEps { get; init; }
    public required float RopeTheta { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public int MaxPositions { get; init; } = 2048;
    /// <summary>Biases on the q/k/v projections (Qwen2 always; Llama's attention_bias).</summary>
    public bool QkvBias { get; init; }
    /// <summary>A bias on o_proj (Llama's attention_bias).</summary>
    public bool OutputBias { get; init; }
    public bool MlpBias { get; init; }
    /// <summary>Added to every RMSNorm weight: Gemma normalizes with <c>1 + weight</c>.</summary>
    public float NormWeightOffset { get; init; }
    /// <summary>Multiplies the token embeddings: Gemma scales by √hidden_size.</summary>
    public float EmbeddingScale { get; init; } = 1f;
    public GateActivation GateActivation { get; init; } = GateActivation.Silu;
    /// <summary>Per layer, the sliding attention window in cache slots (null: full causal attention).</summary>
    public IReadOnlyList<int?> SlidingWindows { get; init; } = [];

    /// <summary>The families this config describes; others are refused by name at load.</summary>
    public static readonly IReadOnlySet<string> ModelTypes = new HashSet<string> { "llama", "mistral", "qwen2", "phi3", "gemma" };
    public RopeScaling RopeScaling { get; init; } = RopeScaling.Default;

    public static DecoderConfig FromHf(HfConfig c)
    {
        string modelType = c.ModelType;
        if (!ModelTypes.Contains(modelType))
            throw new ModelFormatException(c.Source, "model_type",
                $"'{modelType}' is not a supported decoder (supported: gpt2, {string.Join(", ", ModelTypes)})");
        int hidden = c.GetInt("hidden_size");
        int heads = c.GetInt("num_attention_heads");
        int layers = c.GetInt("num_hidden_layers");
        bool gemma = modelType == "gemma";
        // Gemma's configs carry hidden_activation (newer) or hidden_act; both name the gate's activation.
        string act = c.GetString("hidden_activation") ?? c.GetString("hidden_act", "silu");
        GateActivation gateActivation = act switch
        {
            "silu" or "swish" => GateActivation.Silu,
            "gelu_pytorch_tanh" or "gelu_new" or "gelu_fast" => GateActivation.GeluTanh,
            // transformers' original Gemma config says "gelu" but its modeling code always used the tanh form.
            "gelu" when gemma => GateActivation.GeluTanh,
            _ => throw new ModelFormatException(c.Source, "hidden_act", $"'{act}' is not supported (silu, gelu_pytorch_tanh)"),
        };
        bool attentionBias = c.GetBool("attention_bias", false);
        // transformers 5 keeps rope_theta under rope_parameters; older configs have it at the top level.
        RopeScaling scaling = RopeScaling.FromHf(c);
        return new DecoderConfig
        {
            ModelType = modelType,
            VocabSize = c.GetInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = c.GetInt("intermediate_size"),
            Layers = layers,
            Heads = heads,
            KeyValueHeads = c.GetInt("num_key_value_heads", heads),
            HeadDim = c.TryGetInt("head_dim") ?? hidden / heads,
            RmsNormEps = c.GetFloat("rms_norm_eps", 1e-6f),
            RopeTheta = c.TryGetFloat("rope_parameters.rope_theta") ?? c.TryGetFloat("rope_theta") ?? 10000f,
            TieWordEmbeddings = c.GetBool("tie_word_embeddings", false),
            QkvBias = attentionBias || modelType == "qwen2",
            OutputBias = attentionBias,
            MlpBias = c.GetBool("mlp_bias", false),
            NormWeightOffset = gemma ? 1f : 0f,
            EmbeddingScale = gemma ? (float)Math.Sqrt(hidden) : 1f,
            GateActivation = gateActivation,
            SlidingWindows = SlidingWindowsOf(c, modelType, layers),
            RopeScaling = scaling,
            MaxPositions = MaxPositionsOf(c, scaling),
        };
        }

    /// <summary>
    /// The context the model serves: max_position_embeddings, except under dynamic NTK scaling, which exists to stretch
    /// the trained length (max_position_embeddings there) by its factor. transformers itself enforces no limit.
    /// </summary>
    private static int MaxPositionsOf(HfConfig c, RopeScaling scaling)
    {
        int trained = c.GetInt("max_position_embeddings", 2048);
        return scaling.Type == "dynamic" ? checked((int)Math.Round(trained * Math.Max(1, scaling.Factor ?? 1))) : trained;
    }

    /// <summary>
    /// Which layers use a sliding window, as transformers decides: <c>layer_types</c> when the config lists them
    /// ("sliding_attention"); otherwise Mistral and Phi-3 slide every layer when sliding_window is set, and Qwen2 only
    /// when use_sliding_window is true (then layers from max_window_layers on).
    /// </summary>
    private static IReadOnlyList<int?> SlidingWindowsOf(HfConfig c, string modelType, int layers)
    {
        var windows = new int?[layers];
        int? window = c.TryGetInt("sliding_window");
        if (window is null) return windows;
        if (window <= 0) throw new ModelFormatException(c.Source, "sliding_window", $"{window} must be positive");
        if (c.TryGetElement("layer_types", out var types) && types.ValueKind == System.Text.Json.JsonValueKind.Array)
        {
            if (types.GetArrayLength() != layers)
                throw new ModelFormatException(c.Source, "layer_types", $"has {types.GetArrayLength()} entries for {layers} layers");
            int i = 0;
            foreach (var t in types.EnumerateArray())
            {
                string kind = t.GetString() ?? "";
                if (kind == "sliding_attention") windows[i] = window;
                else if (kind != "full_attention")
                    throw new ModelFormatException(c.Source, "layer_types", $"'{kind}' is not supported");
                i++;
            }
            return windows;
        }
        bool slides = modelType switch
        {
            "qwen2" => c.GetBool("use_sliding_window", false),
            "mistral" or "phi3" => true,
            _ => false,
        };
        if (!slides) return windows;
        int from = modelType == "qwen2" ? c.GetInt("max_window_layers", 0) : 0;
        for (int i = from; i < layers; i++) windows[i] = window;
        return windows;
    }
}
