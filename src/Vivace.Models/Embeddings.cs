using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>
/// The <c>embeddings</c> module of the BERT family: word + position (+ token type) embeddings, then LayerNorm.
/// Which position ids to look up is the architecture's business; this module only looks them up.
/// </summary>
public sealed class Embeddings
{
    private readonly Tensor _word;
    private readonly Tensor _position;
    private readonly Tensor? _tokenType;
    private readonly LayerNormWeights _norm;

    /// <param name="scope">the <c>embeddings</c> scope</param>
    /// <param name="tokenTypes">whether the model has <c>token_type_embeddings</c> (0: none)</param>
    public Embeddings(WeightScope scope, EncoderConfig config, int tokenTypes)
    {
        int h = config.HiddenSize;
        _word = scope.Get("word_embeddings.weight", config.VocabSize, h);
        _position = scope.Get("position_embeddings.weight", config.MaxPositions, h);
        _tokenType = tokenTypes > 0 && scope.Contains("token_type_embeddings.weight")
            ? scope.Get("token_type_embeddings.weight", tokenTypes, h)
            : null;
        _norm = scope.LayerNorm("LayerNorm", h, config.LayerNormEps);
    }

    /// <summary><c>[tokens, H]</c> for the batch, with the given position id per token, in <paramref name="into"/> when given.</summary>
    public Tensor Forward(ITensorOps ops, EncoderBatch batch, int[] positionIds, Tensor? into = null)
    {
        int tokens = batch.Sequences.TotalTokens, h = _word.Shape[1];
        if (into is not null && (into.Rank != 2 || into.Shape[0] != tokens || into.Shape[1] != h || into.DType != DType.F32))
            throw new ArgumentException($"the hidden state buffer must be f32 [{tokens}, {h}], got {into.DType} {into.Shape}", nameof(into));
        Tensor hidden = into ?? Tensor.Zeros(tokens, h);
        ops.Gather(_word, batch.InputIds, hidden);
        ops.Gather(_position, positionIds, hidden, accumulate: true);
        if (_tokenType != null) ops.Gather(_tokenType, batch.TokenTypeIds, hidden, accumulate: true);
        ops.LayerNorm(hidden, null, _norm.Gamma, _norm.Beta, _norm.Epsilon, hidden);
        return hidden;
    }
}
