using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>
/// One post-LayerNorm transformer encoder layer, the block BERT, RoBERTa, DistilBERT and MPNet share:
/// <c>x = LN(x + O·Attn(Q x, K x, V x)); x = LN(x + Down·act(Up·x))</c>. Each architecture builds it from its own
/// HF weight names; the computation is written once here.
/// </summary>
public sealed class TransformerEncoderLayer
{
    public required ILinearWeight Query { get; init; }
    public required ILinearWeight Key { get; init; }
    public required ILinearWeight Value { get; init; }
    public required ILinearWeight AttentionOutput { get; init; }
    public required LayerNormWeights AttentionNorm { get; init; }
    public required ILinearWeight Intermediate { get; init; }
    public required Activation IntermediateActivation { get; init; }
    public required ILinearWeight Output { get; init; }
    public required LayerNormWeights OutputNorm { get; init; }
    public required int Heads { get; init; }

    /// <summary>Updates <paramref name="hidden"/> <c>[tokens, H]</c> in place.</summary>
    public void Forward(ITensorOps ops, Tensor hidden, RaggedBatch sequences, IReadOnlyList<Tensor>? attentionBias, LayerScratch scratch)
    {
        int headDim = Query.OutFeatures / Heads;
        ops.Linear(hidden, Query, scratch.Query);
        ops.Linear(hidden, Key, scratch.Key);
        ops.Linear(hidden, Value, scratch.Value);
        ops.Attention(scratch.Query, scratch.Key, scratch.Value, scratch.Context, sequences, Heads,
            1f / MathF.Sqrt(headDim), attentionBias);
        ops.Linear(scratch.Context, AttentionOutput, scratch.Projected);
        ops.LayerNorm(scratch.Projected, hidden, AttentionNorm.Gamma, AttentionNorm.Beta, AttentionNorm.Epsilon, hidden);
        ops.Linear(hidden, Intermediate, scratch.Intermediate, IntermediateActivation);
        ops.Linear(scratch.Intermediate, Output, scratch.Projected);
        ops.LayerNorm(scratch.Projected, hidden, OutputNorm.Gamma, OutputNorm.Beta, OutputNorm.Epsilon, hidden);
    }
}

/// <summary>Activation buffers one forward pass reuses across layers.</summary>
public sealed class LayerScratch
{
    public LayerScratch(int tokens, int hidden, int intermediate)
    {
        Query = Tensor.Zeros(tokens, hidden);
        Key = Tensor.Zeros(tokens, hidden);
        Value = Tensor.Zeros(tokens, hidden);
        Context = Tensor.Zeros(tokens, hidden);
        Projected = Tensor.Zeros(tokens, hidden);
        Intermediate = Tensor.Zeros(tokens, intermediate);
    }

    public Tensor Query { get; }
    public Tensor Key { get; }
    public Tensor Value { get; }
    public Tensor Context { get; }
    public Tensor Projected { get; }
    public Tensor Intermediate { get; }
}
