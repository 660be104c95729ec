using Vivace.Tensors;

namespace Vivace.Models.Bert;

/// <summary>
/// BertModel, and RobertaModel / XLMRobertaModel / CamembertModel which share its module tree and differ only in
/// position ids (padding_idx + 1 + the count of non-padding tokens so far, as transformers computes them).
/// Modules: <c>embeddings.{word,position,token_type}_embeddings</c>, <c>embeddings.LayerNorm</c>,
/// <c>encoder.layer.N.{attention.self.{query,key,value}, attention.output.{dense,LayerNorm}, intermediate.dense,
/// output.{dense,LayerNorm}}</c>, <c>pooler.dense</c>.
/// </summary>
public sealed class BertModel : IEncoderModel
{
    private readonly ITensorOps _ops;
    private readonly EncoderConfig _config;
    private readonly Embeddings _embeddings;
    private readonly TransformerEncoderLayer[] _layers;
    private readonly LayerScratchSlot _scratch = new();
    private readonly ILinearWeight? _pooler;
    private readonly bool _robertaPositions;

    public BertModel(EncoderConfig config, WeightScope root)
    {
        _ops = root.Ops;
        _config = config;
        int h = config.HiddenSize;
        _robertaPositions = config.ModelType is "roberta" or "xlm-roberta" or "camembert";
        _embeddings = new Embeddings(root.Sub("embeddings"), config, config.TypeVocabSize);
        _layers = new TransformerEncoderLayer[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            WeightScope layer = root.Sub("encoder").Sub("layer").Sub(i.ToString());
            WeightScope attention = layer.Sub("attention");
            _layers[i] = new TransformerEncoderLayer
            {
                QueryKeyValue = attention.Sub("self").FusedLinear(["query", "key", "value"], h, h),
                AttentionOutput = attention.Sub("output").Linear("dense", h, h),
                AttentionNorm = attention.Sub("output").LayerNorm("LayerNorm", h, config.LayerNormEps),
                Intermediate = layer.Sub("intermediate").Linear("dense", h, config.IntermediateSize),
                IntermediateActivation = config.HiddenActivation,
                Output = layer.Sub("output").Linear("dense", config.IntermediateSize, h),
                OutputNorm = layer.Sub("output").LayerNorm("LayerNorm", h, config.LayerNormEps),
                Heads = config.Heads,
            };
        }
        _pooler = root.Contains("pooler.dense.weight") ? root.Sub("pooler").Linear("dense", h, h) : null;
    }

    public string ModelType => _config.ModelType;
    public int HiddenSize => _config.HiddenSize;
    public int VocabSize => _config.VocabSize;
    public bool HasPooler => _pooler != null;
    /// <summary>RoBERTa's positions start after padding_idx, so fewer tokens fit.</summary>
    public int MaxPositions => _robertaPositions ? _config.MaxPositions - _config.PadTokenId - 1 : _config.MaxPositions;

    public EncoderOutput Forward(EncoderBatch batch, bool withPooler = true, Tensor? hiddenState = null, bool firstTokensOnly = false)
    {
        int[] positions = _robertaPositions ? PositionIds.AfterPadding(batch, _config.PadTokenId) : batch.Columns;
        Tensor hidden = _embeddings.Forward(_ops, batch, positions, hiddenState);
        EncoderOutput output = TransformerEncoderLayer.Encode(_ops, _layers, hidden, batch.Sequences, null, _scratch, firstTokensOnly);

        return withPooler && _pooler != null ? output with { PoolerOutput = Pooler.Apply(_ops, output, batch.Sequences, _pooler) } : output;
    }
}
