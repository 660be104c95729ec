using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// One cache's share of a forward pass: <see cref="Count"/> new tokens for each of its <see cref="KvCache.Batch"/>
/// sequences (<see cref="InputIds"/> and <see cref="Mask"/> both <c>[batch, count]</c>). A left-padded batch is one
/// part; continuous batching puts many single-sequence parts of different lengths (prefills and decode steps) into one
/// pass, so the weights are read once for all of them.
/// </summary>
public sealed record CachePart(KvCache Cache, int Count, long[] InputIds, long[] Mask)
{
    /// <summary>A part whose tokens are all attended to (mask of ones): a prompt without padding, or a decode step.</summary>
    public static CachePart Unpadded(KvCache cache, long[] inputIds)
    {
        var mask = new long[inputIds.Length];
        Array.Fill(mask, 1L);
        return new CachePart(cache, inputIds.Length / cache.Batch, inputIds, mask);
    }
}

/// <summary>
/// The bookkeeping of a forward pass over several <see cref="CachePart"/>s, shared by every decoder: the parts' tokens
/// stacked into one row range each (part p's row (b, t) at <c>RowOffset[p] + b·count + t</c>), their slots reserved
/// in their caches and their position ids, and where each sequence's last new token sits.
/// </summary>
internal sealed class StackedParts
{
    public StackedParts(IReadOnlyList<CachePart> parts, int vocabSize)
    {
        if (parts.Count == 0) throw new ArgumentException("a forward pass needs at least one part", nameof(parts));
        Parts = parts;
        RowOffset = new int[parts.Count];
        Start = new int[parts.Count];
        int rows = 0, sequences = 0;
        for (int p = 0; p < parts.Count; p++)
        {
            CachePart part = parts[p];
            if (part.Count <= 0) throw new ArgumentOutOfRangeException(nameof(parts), "each part needs at least one new token");
            int n = part.Cache.Batch * part.Count;
            if (part.InputIds.Length != n || part.Mask.Length != n)
                throw new ArgumentException($"input_ids and mask must both be [batch {part.Cache.Batch}, count {part.Count}]", nameof(parts));
            RowOffset[p] = rows;
            rows += n;
            sequences += part.Cache.Batch;
        }
        Rows = rows;
        Ids = new int[rows];
        Positions = new int[rows];
        LastRows = new int[sequences];
        int s = 0;
        for (int p = 0; p < parts.Count; p++)
        {
            CachePart part = parts[p];
            for (int i = 0; i < part.InputIds.Length; i++)
            {
                long id = part.InputIds[i];
                if ((ulong)id >= (ulong)vocabSize)
                    throw new ArgumentOutOfRangeException(nameof(parts), $"token id {id} is outside the vocabulary [0, {vocabSize})");
                Ids[RowOffset[p] + i] = (int)id;
            }
            Start[p] = part.Cache.Length;
            part.Cache.Reserve(part.Count, part.Mask).CopyTo(Positions, RowOffset[p]);
            for (int b = 0; b < part.Cache.Batch; b++) LastRows[s++] = RowOffset[p] + (b + 1) * part.Count - 1;
        }
    }

    public IReadOnlyList<CachePart> Parts { get; }
    /// <summary>All parts' tokens.</summary>
    public int Rows { get; }
    public int[] RowOffset { get; }
    /// <summary>Each part's first new slot in its cache.</summary>
    public int[] Start { get; }
    public int[] Ids { get; }
    public int[] Positions { get; }
    /// <summary>For every sequence (parts in order, then batch rows), the row of its last new token.</summary>
    public int[] LastRows { get; }

    /// <summary>Copies the rows of each sequence's last new token into <paramref name="target"/> <c>[sequences, width]</c>.</summary>
    public void CopyLastRows(Tensor stacked, Tensor target)
    {
        int width = stacked.Shape[1];
        for (int s = 0; s < LastRows.Length; s++)
            stacked.AsSpan().Slice(LastRows[s] * width, width).CopyTo(target.AsSpan().Slice(s * width, width));
    }

    /// <summary>Marks every part's reserved slots filled, once all layers have written them.</summary>
    public void Commit()
    {
        foreach (CachePart part in Parts) part.Cache.Commit(part.Count, part.Mask);
    }
}
