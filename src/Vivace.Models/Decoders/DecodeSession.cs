using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// One batch's walk through generation, a step at a time: <see cref="Prefill"/> runs the (left-padded) prompt into a
/// KV cache allocated up front for prompt + max new tokens, then each <see cref="Step"/> feeds one chosen token per
/// sequence and returns the next logits. Only the last position goes through the LM head. New tokens are always
/// attended to (transformers extends the mask with ones, also for finished sequences fed padding).
/// Callers pick tokens however they like (greedy, sampling) and decide when to stop.
/// </summary>
public sealed class DecodeSession
{
    private readonly ICausalLM _model;
    private readonly KvCache _cache;
    private readonly long[] _ones;
    private bool _prefilled;

    public DecodeSession(ICausalLM model, int batch, int maxTokens)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), "batch must be positive");
        if (maxTokens <= 0) throw new ArgumentOutOfRangeException(nameof(maxTokens), "the session must hold at least one token");
        if (maxTokens > model.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), $"{maxTokens} tokens exceed the model's {model.MaxPositions} positions");
        _model = model;
        Batch = batch;
        _cache = model.CreateCache(batch, maxTokens);
        _ones = new long[batch];
        Array.Fill(_ones, 1L);
    }

    public int Batch { get; }
    /// <summary>Positions (slots) filled so far, padding included.</summary>
    public int Length => _cache.Length;
    /// <summary>Slots left for new tokens.</summary>
    public int Remaining => _cache.Capacity - _cache.Length;

    /// <summary>Runs the prompt <c>[batch, seq]</c>; returns the last position's logits <c>[batch, vocab]</c>.</summary>
    public Tensor Prefill(int seq, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> attentionMask)
    {
        if (_prefilled) throw new InvalidOperationException("the session is already prefilled");
        if (inputIds.Length != Batch * seq || attentionMask.Length != Batch * seq)
            throw new ArgumentException($"input_ids and attention_mask must both be [batch {Batch}, seq {seq}]");
        _prefilled = true;
        return _model.ForwardCached(Batch, seq, inputIds, attentionMask, _cache);
    }

    /// <summary>Feeds one token per sequence; returns the logits for the position after it, <c>[batch, vocab]</c>.</summary>
    public Tensor Step(ReadOnlySpan<long> tokens)
    {
        if (!_prefilled) throw new InvalidOperationException("prefill the session first");
        if (tokens.Length != Batch) throw new ArgumentException($"one token per sequence ({Batch}) expected", nameof(tokens));
        return _model.ForwardCached(Batch, 1, tokens, _ones, _cache);
    }
}
