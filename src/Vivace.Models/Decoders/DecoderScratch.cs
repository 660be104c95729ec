using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// The activation buffers of one Llama-family forward pass (hidden state, normed rows, fused QKV, attention context, the
/// projections, gate|up and its gated half, each sequence's last row), reused layer after layer and, through a
/// <see cref="DecoderScratchSlot"/>, pass after pass: a decode step then allocates its logits and nothing this size.
/// </summary>
internal sealed class DecoderScratch
{
    private readonly Tensor _hidden, _normed, _projected, _queryKeyValue, _context, _gateUp, _gated;

    public DecoderScratch(DecoderShape shape, int capacity)
    {
        Shape = shape;
        Capacity = capacity;
        _hidden = Tensor.Zeros(capacity, shape.Hidden);
        _normed = Tensor.Zeros(capacity, shape.Hidden);
        _projected = Tensor.Zeros(capacity, shape.Hidden);
        _queryKeyValue = Tensor.Zeros(capacity, shape.QueryKeyValue);
        _context = Tensor.Zeros(capacity, shape.Context);
        _gateUp = Tensor.Zeros(capacity, 2 * shape.Intermediate);
        _gated = Tensor.Zeros(capacity, shape.Intermediate);
    }

    public DecoderShape Shape { get; }
    /// <summary>Rows every buffer holds.</summary>
    public int Capacity { get; }

    public Tensor Hidden { get; private set; } = null!;
    public Tensor Normed { get; private set; } = null!;
    public Tensor Projected { get; private set; } = null!;
    public Tensor QueryKeyValue { get; private set; } = null!;
    public Tensor Context { get; private set; } = null!;
    public Tensor GateUp { get; private set; } = null!;
    public Tensor Gated { get; private set; } = null!;
    /// <summary>Each sequence's last row of the hidden state, <c>[sequences, hidden]</c> (the rows the LM head reads).</summary>
    public Tensor LastRows { get; private set; } = null!;

    /// <summary>Points the views at the first <paramref name="tokens"/> rows (new view objects only when a count changes).</summary>
    public DecoderScratch View(int tokens, int sequences)
    {
        if (Hidden is null || Hidden.Shape[0] != tokens)
        {
            Hidden = _hidden.Slice(0, tokens);
            Normed = _normed.Slice(0, tokens);
            Projected = _projected.Slice(0, tokens);
            QueryKeyValue = _queryKeyValue.Slice(0, tokens);
            Context = _context.Slice(0, tokens);
            GateUp = _gateUp.Slice(0, tokens);
            Gated = _gated.Slice(0, tokens);
        }
        // Sequences ≤ tokens: the normed buffer is free again by the time the last rows are gathered.
        if (LastRows is null || LastRows.Shape[0] != sequences) LastRows = _normed.Slice(0, sequences);
        return this;
    }
}

/// <summary>The widths a <see cref="DecoderScratch"/> is made for.</summary>
internal readonly record struct DecoderShape(int Hidden, int QueryKeyValue, int Context, int Intermediate);

/// <summary>
/// A decoder's spare <see cref="DecoderScratch"/>, as <see cref="LayerScratchSlot"/> is the encoder's: a pass takes it (or
/// makes a new one when it is missing or too small) and puts it back. Concurrent passes of one model take the spare or
/// make their own, so no two passes share a buffer; the one returned last is kept.
/// </summary>
internal sealed class DecoderScratchSlot
{
    private DecoderScratch? _spare;

    /// <summary>A scratch for <paramref name="tokens"/> rows (growing in steps of 64 rows, so slowly growing batches do not
    /// reallocate every time).</summary>
    public DecoderScratch Rent(DecoderShape shape, int tokens, int sequences)
    {
        DecoderScratch? spare = Interlocked.Exchange(ref _spare, null);
        if (spare != null && spare.Shape == shape && spare.Capacity >= tokens) return spare.View(tokens, sequences);
        return new DecoderScratch(shape, (Math.Max(tokens, spare?.Capacity ?? 0) + 63) / 64 * 64).View(tokens, sequences);
    }

    /// <summary>Hands the buffers back for the next pass; the caller must not use them after.</summary>
    public void Return(DecoderScratch scratch) => Volatile.Write(ref _spare, scratch);
}
