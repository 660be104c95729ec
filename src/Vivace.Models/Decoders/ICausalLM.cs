using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// A decoder-only language model as generation drives it: a prefill over a (left-padded) prompt batch into a
/// <see cref="KvCache"/>, then single-token decode steps against that cache. GPT-2 and the Llama family implement it.
/// </summary>
public interface ICausalLM
{
    int VocabSize { get; }

    /// <summary>The longest sequence (prompt + generated) the model supports: its position table or rope range.</summary>
    int MaxPositions { get; }

    /// <summary>A cache for <paramref name="batch"/> sequences of up to <paramref name="capacity"/> positions each.</summary>
    KvCache CreateCache(int batch, int capacity);

    /// <summary>
    /// Logits <c>[batch, seq, vocab]</c> for every position of a left-padded batch with no cache kept (a prefill into a
    /// cache of exactly this size): the reference the cached path is tested against.
    /// </summary>
    Tensor Forward(int batch, int seq, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> attentionMask);

    /// <summary>
    /// Runs the <paramref name="count"/> new positions per sequence (<paramref name="inputIds"/> and
    /// <paramref name="newMask"/> both <c>[batch, count]</c>) against everything already in <paramref name="cache"/>,
    /// appending their keys and values. Logits <c>[batch, vocab]</c> for each sequence's last new position when
    /// <paramref name="lastOnly"/>, else <c>[batch, count, vocab]</c>.
    /// </summary>
    Tensor ForwardCached(int batch, int count, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> newMask, KvCache cache,
        bool lastOnly = true);

    /// <summary>
    /// The cached forward over several caches in one pass (continuous batching: prefills and decode steps of
    /// different sequences together); each part attends only to its own cache. Logits <c>[sequences, vocab]</c> for every
    /// sequence's last new token (parts in order, then batch rows) when <paramref name="lastOnly"/>, else every row's.
    /// A sequence's logits do not depend on the other parts.
    /// </summary>
    Tensor ForwardParts(IReadOnlyList<CachePart> parts, bool lastOnly = true);
}
