using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>
/// One post-LayerNorm transformer encoder layer, the block BERT, RoBERTa, DistilBERT and MPNet share:
/// <c>x = LN(x + O·Attn(Q x, K x, V x)); x = LN(x + Down·act(Up·x))</c>, Q, K and V as one fused projection. Each architecture builds it from its own
/// HF weight names; the computation is written once here.
/// </summary>
public sealed class TransformerEncoderLayer
{
    /// <summary>The query, key and value projections fused: output <c>[q | k | v]</c>.</summary>
    public required ILinearWeight QueryKeyValue { get; init; }
    public required ILinearWeight AttentionOutput { get; init; }
    public required LayerNormWeights AttentionNorm { get; init; }
    public required ILinearWeight Intermediate { get; init; }
    public required Activation IntermediateActivation { get; init; }
    public required ILinearWeight Output { get; init; }
    public required LayerNormWeights OutputNorm { get; init; }
    public required int Heads { get; init; }

    /// <summary>Runs <paramref name="layers"/> in order over <paramref name="hidden"/> <c>[tokens, H]</c>, in place.</summary>
    public static void RunAll(ITensorOps ops, IReadOnlyList<TransformerEncoderLayer> layers, Tensor hidden, RaggedBatch sequences,
        IReadOnlyList<Tensor>? attentionBias)
    {
        if (layers.Count == 0) return;
        var scratch = new LayerScratch(hidden.Shape[0], hidden.Shape[1], layers[0].Intermediate.OutFeatures);
        foreach (TransformerEncoderLayer layer in layers) layer.Forward(ops, hidden, sequences, attentionBias, scratch);
    }

    /// <summary>Updates <paramref name="hidden"/> <c>[tokens, H]</c> in place.</summary>
    public void Forward(ITensorOps ops, Tensor hidden, RaggedBatch sequences, IReadOnlyList<Tensor>? attentionBias, LayerScratch scratch)
    {
        int headDim = AttentionOutput.InFeatures / Heads;
        ops.Linear(hidden, QueryKeyValue, scratch.QueryKeyValue);
        ops.FusedAttention(scratch.QueryKeyValue, scratch.Context, sequences, Heads, 1f / MathF.Sqrt(headDim), attentionBias);
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
        QueryKeyValue = Tensor.Zeros(tokens, 3 * hidden);
        Context = Tensor.Zeros(tokens, hidden);
        Projected = Tensor.Zeros(tokens, hidden);
        Intermediate = Tensor.Zeros(tokens, intermediate);
    }

    public Tensor QueryKeyValue { get; }
    public Tensor Context { get; }
    public Tensor Projected { get; }
    public Tensor Intermediate { get; }
}
