using Vivace.Tensors;

namespace Vivace.Models.DistilBert;

/// <summary>
/// DistilBertModel. Modules: <c>embeddings.{word,position}_embeddings</c>, <c>embeddings.LayerNorm</c>,
/// <c>transformer.layer.N.{attention.{q,k,v,out}_lin, sa_layer_norm, ffn.lin1, ffn.lin2, output_layer_norm}</c>.
/// Sinusoidal position embeddings, when configured, are stored in the checkpoint like learned ones.
/// </summary>
public sealed class DistilBertModel : IEncoderModel
{
    private readonly ITensorOps _ops;
    private readonly EncoderConfig _config;
    private readonly Embeddings _embeddings;
    private readonly TransformerEncoderLayer[] _layers;
    private readonly LayerScratchSlot _scratch = new();

    public DistilBertModel(EncoderConfig config, WeightScope root)
    {
        _ops = root.Ops;
        _config = config;
        int h = config.HiddenSize;
        _embeddings = new Embeddings(root.Sub("embeddings"), config, tokenTypes: 0);
        _layers = new TransformerEncoderLayer[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            WeightScope layer = root.Sub("transformer").Sub("layer").Sub(i.ToString());
            WeightScope attention = layer.Sub("attention");
            _layers[i] = new TransformerEncoderLayer
            {
                QueryKeyValue = attention.FusedLinear(["q_lin", "k_lin", "v_lin"], h, h),
                AttentionOutput = attention.Linear("out_lin", h, h),
                AttentionNorm = layer.LayerNorm("sa_layer_norm", h, config.LayerNormEps),
                Intermediate = layer.Sub("ffn").Linear("lin1", h, config.IntermediateSize),
                IntermediateActivation = config.HiddenActivation,
                Output = layer.Sub("ffn").Linear("lin2", config.IntermediateSize, h),
                OutputNorm = layer.LayerNorm("output_layer_norm", h, config.LayerNormEps),
                Heads = config.Heads,
            };
        }
    }

    public string ModelType => _config.ModelType;
    public int HiddenSize => _config.HiddenSize;
    public int VocabSize => _config.VocabSize;
    public int MaxPositions => _config.MaxPositions;
    public bool HasPooler => false;

    public EncoderOutput Forward(EncoderBatch batch, bool withPooler = true, Tensor? hiddenState = null, bool firstTokensOnly = false)
    {
        Tensor hidden = _embeddings.Forward(_ops, batch, batch.Columns, hiddenState);
        return TransformerEncoderLayer.Encode(_ops, _layers, hidden, batch.Sequences, null, _scratch, firstTokensOnly);
    }
}
