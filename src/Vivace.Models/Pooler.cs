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
        var pooled = Tensor.Zeros(sequences.Count, dense.OutFeatures);
        ops.Linear(first, dense, pooled, Activation.Tanh);
        return pooled;
    }
}
