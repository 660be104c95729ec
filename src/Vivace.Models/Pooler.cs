using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>The BERT-style pooler: the first token of each sequence through a dense layer and tanh.</summary>
public static class Pooler
{
    public static Tensor FirstTokenDenseTanh(ITensorOps ops, Tensor hidden, RaggedBatch sequences, ILinearWeight dense)
    {
        int h = hidden.Shape[1];
        var first = Tensor.Zeros(sequences.Count, h);
        ReadOnlySpan<float> src = hidden.AsSpan();
        Span<float> dst = first.AsSpan();
        for (int s = 0; s < sequences.Count; s++)
            if (sequences.Length(s) > 0)
                src.Slice(sequences.Start(s) * h, h).CopyTo(dst.Slice(s * h, h));
        return DenseTanh(ops, first, dense);
    }

    /// <summary>The pooler on rows that already are each sequence's first token (<c>[sequences, hidden]</c>).</summary>
    public static Tensor DenseTanh(ITensorOps ops, Tensor firstTokens, ILinearWeight dense)
    {
        var pooled = Tensor.Zeros(firstTokens.Shape[0], dense.OutFeatures);
        ops.Linear(firstTokens, dense, pooled, Activation.Tanh);
        return pooled;
    }

    /// <summary>Pooler output from an encoder's output, whether it holds every token or first tokens only.</summary>
    public static Tensor Apply(ITensorOps ops, EncoderOutput output, RaggedBatch sequences, ILinearWeight dense) =>
        output.FirstTokensOnly ? DenseTanh(ops, output.LastHiddenState, dense) : FirstTokenDenseTanh(ops, output.LastHiddenState, sequences, dense);
}
