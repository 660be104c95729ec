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

    /// <summary>
    /// <see cref="RunAll"/>, named as transformers names the result: last_hidden_state over every token, or
    /// <c>[sequences, H]</c> of each sequence's first token when only those are wanted.
    /// </summary>
    public static EncoderOutput Encode(ITensorOps ops, IReadOnlyList<TransformerEncoderLayer> layers, Tensor hidden, RaggedBatch sequences,
        IReadOnlyList<Tensor>? attentionBias, LayerScratchSlot spare, bool firstTokensOnly)
    {
        Tensor? first = firstTokensOnly ? Tensor.Zeros(sequences.Count, hidden.Shape[1]) : null;
        RunAll(ops, layers, hidden, sequences, attentionBias, spare, first);
        return new EncoderOutput { LastHiddenState = first ?? hidden, FirstTokensOnly = first != null };
    }

    /// <summary>Runs <paramref name="layers"/> in order over <paramref name="hidden"/> <c>[tokens, H]</c>, in place.</summary>
    /// <remarks><paramref name="spare"/>: the model's slot for the buffers its passes reuse (see <see cref="LayerScratch"/>).
    /// <paramref name="firstTokens"/> (<c>[sequences, H]</c>, every sequence non-empty): the last layer's output is wanted
    /// only at each sequence's first token ([CLS] pooling, a classification head), so it goes there, and that layer runs
    /// its attention output and FFN on those rows alone; <paramref name="hidden"/> then holds the layer before's output.</remarks>
    private static void RunAll(ITensorOps ops, IReadOnlyList<TransformerEncoderLayer> layers, Tensor hidden, RaggedBatch sequences,
        IReadOnlyList<Tensor>? attentionBias, LayerScratchSlot spare, Tensor? firstTokens = null)
    {
        if (layers.Count == 0)
        {
            if (firstTokens != null) ops.Gather(hidden, FirstRows(sequences), firstTokens);
            return;
        }
        LayerScratch scratch = spare.Rent(hidden.Shape[0], hidden.Shape[1], layers[0].Intermediate.OutFeatures);
        try
        {
            int full = firstTokens is null ? layers.Count : layers.Count - 1;
            for (int i = 0; i < full; i++) layers[i].Forward(ops, hidden, sequences, attentionBias, scratch);
            if (firstTokens != null) layers[^1].ForwardFirstTokens(ops, hidden, sequences, attentionBias, scratch, firstTokens);
        }
        finally
        {
            spare.Return(scratch);
        }
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

    /// <summary>
    /// The layer with its output wanted only at each sequence's first token: keys and values still come from every token
    /// (so does attention, a small part of the work at encoder lengths), then only the first tokens' context rows go
    /// through the attention output, the norms and the FFN — about three quarters of the layer's multiply-adds skipped.
    /// The scratch's leading rows hold the gathered rows (no buffer is read while written).
    /// </summary>
    public void ForwardFirstTokens(ITensorOps ops, Tensor hidden, RaggedBatch sequences, IReadOnlyList<Tensor>? attentionBias,
        LayerScratch scratch, Tensor firstTokens)
    {
        int headDim = AttentionOutput.InFeatures / Heads, count = sequences.Count;
        int[] rows = FirstRows(sequences);
        ops.Linear(hidden, QueryKeyValue, scratch.QueryKeyValue);
        ops.FusedAttention(scratch.QueryKeyValue, scratch.Context, sequences, Heads, 1f / MathF.Sqrt(headDim), attentionBias);
        Tensor context = scratch.Projected.Slice(0, count), projected = scratch.Context.Slice(0, count);
        Tensor intermediate = scratch.Intermediate.Slice(0, count);
        ops.Gather(scratch.Context, rows, context);
        ops.Gather(hidden, rows, firstTokens);
        ops.Linear(context, AttentionOutput, projected);
        ops.LayerNorm(projected, firstTokens, AttentionNorm.Gamma, AttentionNorm.Beta, AttentionNorm.Epsilon, firstTokens);
        ops.Linear(firstTokens, Intermediate, intermediate, IntermediateActivation);
        ops.Linear(intermediate, Output, projected);
        ops.LayerNorm(projected, firstTokens, OutputNorm.Gamma, OutputNorm.Beta, OutputNorm.Epsilon, firstTokens);
    }

    /// <summary>Each sequence's first row; every sequence must hold a token.</summary>
    private static int[] FirstRows(RaggedBatch sequences)
    {
        var rows = new int[sequences.Count];
        for (int s = 0; s < rows.Length; s++)
        {
            if (sequences.Length(s) == 0) throw new ArgumentException($"sequence {s} is empty: it has no first token", nameof(sequences));
            rows[s] = sequences.Start(s);
        }
        return rows;
    }
}

/// <summary>
/// A model's spare <see cref="LayerScratch"/>: a pass takes it (or makes a new one when it is missing or too small) and
/// puts it back, so a steady stream of forwards allocates none of these buffers (about 9× the hidden state's bytes).
/// Concurrent passes of one model take the spare or make their own; the one returned last is kept.
/// </summary>
public sealed class LayerScratchSlot
{
    private LayerScratch? _spare;

    /// <summary>A scratch for <paramref name="tokens"/> rows (growing in steps of 64 rows, so slowly growing batches do not
    /// reallocate every time).</summary>
    public LayerScratch Rent(int tokens, int hidden, int intermediate)
    {
        LayerScratch? spare = Interlocked.Exchange(ref _spare, null);
        if (spare != null && spare.Hidden == hidden && spare.IntermediateSize == intermediate && spare.Capacity >= tokens)
            return spare.View(tokens);
        return new LayerScratch((Math.Max(tokens, spare?.Capacity ?? 0) + 63) / 64 * 64, hidden, intermediate).View(tokens);
    }

    /// <summary>Hands the buffers back for the next pass; the caller must not use them after.</summary>
    public void Return(LayerScratch scratch) => Volatile.Write(ref _spare, scratch);
}

/// <summary>Activation buffers one forward pass reuses across layers (and, through a <see cref="LayerScratchSlot"/>, across passes).</summary>
public sealed class LayerScratch
{
    private readonly Tensor _queryKeyValue, _context, _projected, _intermediate;

    public LayerScratch(int tokens, int hidden, int intermediate)
    {
        Hidden = hidden;
        IntermediateSize = intermediate;
        Capacity = tokens;
        _queryKeyValue = Tensor.Zeros(tokens, 3 * hidden);
        _context = Tensor.Zeros(tokens, hidden);
        _projected = Tensor.Zeros(tokens, hidden);
        _intermediate = Tensor.Zeros(tokens, intermediate);
        View(tokens);
    }

    /// <summary>Points the views at the first <paramref name="tokens"/> rows (new view objects only when the count changes).</summary>
    internal LayerScratch View(int tokens)
    {
        if (QueryKeyValue is not null && QueryKeyValue.Shape[0] == tokens) return this;
        QueryKeyValue = _queryKeyValue.Slice(0, tokens);
        Context = _context.Slice(0, tokens);
        Projected = _projected.Slice(0, tokens);
        Intermediate = _intermediate.Slice(0, tokens);
        return this;
    }

    public int Hidden { get; }
    public int IntermediateSize { get; }
    /// <summary>Rows the buffers hold.</summary>
    public int Capacity { get; }
    public Tensor QueryKeyValue { get; private set; } = null!;
    public Tensor Context { get; private set; } = null!;
    public Tensor Projected { get; private set; } = null!;
    public Tensor Intermediate { get; private set; } = null!;
}
