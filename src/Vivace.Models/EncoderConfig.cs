using Vivace.Formats;
using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>The encoder hyper-parameters Vivace uses, read from an HF <c>config.json</c> whatever its field names.</summary>
public sealed record EncoderConfig
{
    public required string ModelType { get; init; }
    public required int HiddenSize { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int IntermediateSize { get; init; }
    public required Activation HiddenActivation { get; init; }
    public required float LayerNormEps { get; init; }
    public required int MaxPositions { get; init; }
    public required int VocabSize { get; init; }
    public int TypeVocabSize { get; init; }
    public int PadTokenId { get; init; }
    public int RelativeAttentionBuckets { get; init; }

    public int HeadDim => HiddenSize / Heads;

    /// <summary>Reads the fields of a BERT-family config; unknown or inconsistent values are errors naming the field.</summary>
    public static EncoderConfig FromHf(HfConfig config)
    {
        string type = config.ModelType;
        EncoderConfig result = type switch
        {
            "bert" or "roberta" or "xlm-roberta" or "camembert" or "mpnet" => new EncoderConfig
            {
                ModelType = type,
                HiddenSize = config.GetInt("hidden_size"),
                Layers = config.GetInt("num_hidden_layers"),
                Heads = config.GetInt("num_attention_heads"),
                IntermediateSize = config.GetInt("intermediate_size"),
                HiddenActivation = ParseActivation(config, "hidden_act", config.GetString("hidden_act") ?? "gelu"),
                LayerNormEps = config.TryGetFloat("layer_norm_eps") ?? 1e-12f,
                MaxPositions = config.GetInt("max_position_embeddings"),
                VocabSize = config.GetInt("vocab_size"),
                TypeVocabSize = type == "mpnet" ? 0 : config.TryGetInt("type_vocab_size") ?? 2,
                PadTokenId = config.TryGetInt("pad_token_id") ?? (type == "bert" ? 0 : 1),
                RelativeAttentionBuckets = type == "mpnet" ? config.TryGetInt("relative_attention_num_buckets") ?? 32 : 0,
            },
            "distilbert" => new EncoderConfig
            {
                ModelType = type,
                HiddenSize = config.GetInt("dim"),
                Layers = config.GetInt("n_layers"),
                Heads = config.GetInt("n_heads"),
                IntermediateSize = config.GetInt("hidden_dim"),
                HiddenActivation = ParseActivation(config, "activation", config.GetString("activation") ?? "gelu"),
                LayerNormEps = 1e-12f,
                MaxPositions = config.GetInt("max_position_embeddings"),
                VocabSize = config.GetInt("vocab_size"),
                PadTokenId = config.TryGetInt("pad_token_id") ?? 0,
            },
            _ => throw new ModelFormatException(config.Source, "model_type",
                $"'{type}' is not a supported encoder (supported: bert, roberta, xlm-roberta, camembert, distilbert, mpnet)"),
        };
        string positionType = config.GetString("position_embedding_type") ?? "absolute";
        if (positionType != "absolute")
            throw new ModelFormatException(config.Source, "position_embedding_type",
                $"'{positionType}' is not supported (only 'absolute')");
        Require(config, result.HiddenSize > 0, "hidden_size", "must be positive");
        Require(config, result.Layers > 0, "num_hidden_layers", "must be positive");
        Require(config, result.Heads > 0 && result.HiddenSize % result.Heads == 0, "num_attention_heads",
            $"{result.Heads} must be positive and divide hidden_size {result.HiddenSize}");
        Require(config, result.IntermediateSize > 0, "intermediate_size", "must be positive");
        Require(config, result.MaxPositions > 0, "max_position_embeddings", "must be positive");
        Require(config, result.VocabSize > 0, "vocab_size", "must be positive");
        Require(config, result.LayerNormEps > 0 && float.IsFinite(result.LayerNormEps), "layer_norm_eps", "must be a positive number");
        return result;
    }

    private static void Require(HfConfig config, bool condition, string field, string message)
    {
        if (!condition) throw new ModelFormatException(config.Source, field, message);
    }

    /// <summary>Maps an HF activation name (ACT2FN keys) to a kernel activation.</summary>
    public static Activation ParseActivation(HfConfig config, string field, string name) => name switch
    {
        "gelu" => Activation.Gelu,
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => Activation.GeluTanh,
        "relu" => Activation.Relu,
        "tanh" => Activation.Tanh,
        _ => throw new ModelFormatException(config.Source, field,
            $"'{name}' is not a supported activation (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, tanh)"),
    };
}
