using Vivace.Formats;

namespace Vivace.Models.Decoders;

/// <summary>The fields of an HF decoder-only <c>config.json</c> (Llama family) a forward pass needs.</summary>
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
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public RopeScaling RopeScaling { get; init; } = RopeScaling.Default;

    public static DecoderConfig FromHf(HfConfig c)
    {
        int hidden = c.GetInt("hidden_size");
        int heads = c.GetInt("num_attention_heads");
        string act = c.GetString("hidden_act", "silu");
        if (act is not ("silu" or "swish"))
            throw new ModelFormatException(c.Source, "hidden_act", $"'{act}' is not supported (only silu)");
        // transformers 5 keeps rope_theta under rope_parameters; older configs have it at the top level.
        return new DecoderConfig
        {
            ModelType = c.ModelType,
            VocabSize = c.GetInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = c.GetInt("intermediate_size"),
            Layers = c.GetInt("num_hidden_layers"),
            Heads = heads,
            KeyValueHeads = c.GetInt("num_key_value_heads", heads),
            HeadDim = c.TryGetInt("head_dim") ?? hidden / heads,
            RmsNormEps = c.GetFloat("rms_norm_eps", 1e-6f),
            RopeTheta = c.TryGetFloat("rope_parameters.rope_theta") ?? c.TryGetFloat("rope_theta") ?? 10000f,
            TieWordEmbeddings = c.GetBool("tie_word_embeddings", false),
            AttentionBias = c.GetBool("attention_bias", false),
            MlpBias = c.GetBool("mlp_bias", false),
            RopeScaling = RopeScaling.FromHf(c),
        };
    }
}
