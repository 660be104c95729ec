using Vivace.Tensors;

namespace Vivace.Models.MPNet;

/// <summary>
/// MPNetModel. Modules: <c>embeddings.{word,position}_embeddings</c>, <c>embeddings.LayerNorm</c>,
/// <c>encoder.layer.N.{attention.attn.{q,k,v,o}, attention.LayerNorm, intermediate.dense, output.{dense,LayerNorm}}</c>,
/// <c>encoder.relative_attention_bias</c> (one bias per head for each bucket of relative position, shared by all
/// layers), <c>pooler.dense</c>. Position ids as RoBERTa's.
/// </summary>
public sealed class MPNetModel : IEncoderModel
{
    private readonly ITensorOps _ops;
    private readonly EncoderConfig _config;
    private readonly Embeddings _embeddings;
    private readonly TransformerEncoderLayer[] _layers;
    private readonly LayerScratchSlot _scratch = new();
    private readonly Tensor _relativeAttentionBias;
    private readonly ILinearWeight? _pooler;

    public MPNetModel(EncoderConfig config, WeightScope root)
    {
        _ops = root.Ops;
        _config = config;
        int h = config.HiddenSize;
        _embeddings = new Embeddings(root.Sub("embeddings"), config, tokenTypes: 0);
        WeightScope encoder = root.Sub("encoder");
        _relativeAttentionBias = encoder.Get("relative_attention_bias.weight", config.RelativeAttentionBuckets, config.Heads);
        _layers = new TransformerEncoderLayer[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            WeightScope layer = encoder.Sub("layer").Sub(i.ToString());
            WeightScope attn = layer.Sub("attention").Sub("attn");
            _layers[i] = new TransformerEncoderLayer
            {
                QueryKeyValue = attn.FusedLinear(["q", "k", "v"], h, h),
                AttentionOutput = attn.Linear("o", h, h),
                AttentionNorm = layer.Sub("attention").LayerNorm("LayerNorm", h, config.LayerNormEps),
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
    public int MaxPositions => _config.MaxPositions - _config.PadTokenId - 1;
    public bool HasPooler => _pooler != null;

    public EncoderOutput Forward(EncoderBatch batch, bool withPooler = true, Tensor? hiddenState = null, bool firstTokensOnly = false)
    {
        Tensor hidden = _embeddings.Forward(_ops, batch, PositionIds.AfterPadding(batch, _config.PadTokenId), hiddenState);
        EncoderOutput output = TransformerEncoderLayer.Encode(_ops, _layers, hidden, batch.Sequences, PositionBias(batch), _scratch, firstTokensOnly);

        return withPooler && _pooler != null ? output with { PoolerOutput = Pooler.Apply(_ops, output, batch.Sequences, _pooler) } : output;
    }

    /// <summary>Per sequence, <c>[heads, L, L]</c>: the learned bias of the bucket of (key column − query column).</summary>
    private Tensor[] PositionBias(EncoderBatch batch)
    {
        int heads = _config.Heads, buckets = _config.RelativeAttentionBuckets;
        ReadOnlySpan<float> table = _relativeAttentionBias.AsSpan(); // [buckets, heads]
        var result = new Tensor[batch.Sequences.Count];
        for (int s = 0; s < result.Length; s++)
        {
            int start = batch.Sequences.Start(s), length = batch.Sequences.Length(s);
            var bias = Tensor.Zeros(heads, length, length);
            Span<float> b = bias.AsSpan();
            for (int i = 0; i < length; i++)
                for (int j = 0; j < length; j++)
                {
                    int bucket = RelativePositionBuckets.Bucket(batch.Columns[start + j] - batch.Columns[start + i], buckets);
                    for (int hd = 0; hd < heads; hd++)
                        b[(hd * length + i) * length + j] = table[bucket * heads + hd];
                }
            result[s] = bias;
        }
        return result;
    }
}
