using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// The activation buffers of one decoder forward pass (hidden state, normed rows, fused QKV, attention context, the
/// projections, gate|up and its gated half — or, for GPT-2's ungated MLP, only the activated inner rows — each
/// sequence's last row), reused layer after layer and, through a <see cref="DecoderScratchSlot"/>, pass after pass: a
/// decode step then allocates its logits and nothing this size.
/// </summary>
internal sealed class DecoderScratch
{
    private readonly Tensor _hidden, _normed, _projected, _queryKeyValue, _context, _gated;
    private readonly Tensor? _gateUp;

    public DecoderScratch(DecoderShape shape, int capacity)
    {
        Shape = shape;
        Capacity = capacity;
        _hidden = Tensor.Zeros(capacity, shape.Hidden);
        _normed = Tensor.Zeros(capacity, shape.Hidden);
        _projected = Tensor.Zeros(capacity, shape.Hidden);
        _queryKeyValue = Tensor.Zeros(capacity, shape.QueryKeyValue);
        _context = Tensor.Zeros(capacity, shape.Context);
        // An ungated MLP writes its activated inner rows straight into Gated: no gate|up buffer to hold.
        if (shape.GatedMlp) _gateUp = Tensor.Zeros(capacity, 2 * shape.Intermediate);
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
    /// <summary>The fused gate|up projection; null when the shape's MLP is not gated.</summary>
    public Tensor? GateUp { get; private set; }
    /// <summary>The MLP's inner rows <c>[tokens, intermediate]</c>: act(gate)·up, or act(fc) for an ungated MLP.</summary>
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
            GateUp = _gateUp?.Slice(0, tokens);
            Gated = _gated.Slice(0, tokens);
        }
        // Sequences ≤ tokens: the normed buffer is free again by the time the last rows are gathered.
        if (LastRows is null || LastRows.Shape[0] != sequences) LastRows = _normed.Slice(0, sequences);
        return this;
    }
}

/// <summary>The widths a <see cref="DecoderScratch"/> is made for; <paramref name="GatedMlp"/> false (GPT-2) leaves out the
/// gate|up buffer.</summary>
internal readonly record struct DecoderShape(int Hidden, int QueryKeyValue, int Context, int Intermediate, bool GatedMlp = true);

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
