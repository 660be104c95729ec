namespace Vivace.Models.Decoders;

/// <summary>
/// Keys and values of every layer for a batch, allocated up front for <see cref="Capacity"/> positions
/// (prompt + max_new_tokens) so decoding never reallocates. Layout per layer: <c>[batch, capacity, width]</c> where
/// width is <c>kvHeads·headDim</c> (keys stored after RoPE where the model has it).
/// The cache also keeps the attention mask of every cached position (left padding stays masked forever) and each
/// sequence's count of real tokens, from which the next position id follows as transformers derives it
/// (<c>cumsum(mask) − 1</c>).
/// </summary>
public sealed class KvCache
{
    private readonly float[][] _keys, _values;
    private readonly long[] _mask;
    private readonly int[] _realTokens;

    public KvCache(int layers, int width, int batch, int capacity)
    {
        if (batch <= 0 || capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "batch and capacity must be positive");
        Batch = batch;
        Capacity = capacity;
        Width = width;
        _keys = new float[layers][];
        _values = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            _keys[l] = new float[(long)batch * capacity * Width];
            _values[l] = new float[(long)batch * capacity * Width];
        }
        _mask = new long[batch * capacity];
        _realTokens = new int[batch];
    }

    public int Batch { get; }
    public int Capacity { get; }
    /// <summary>Floats per cached position per layer: <c>kvHeads · headDim</c>.</summary>
    public int Width { get; }
    /// <summary>Positions filled so far (the same for every sequence: padding occupies slots too, masked out).</summary>
    public int Length { get; private set; }

    public Span<float> Keys(int layer) => _keys[layer];
    public Span<float> Values(int layer) => _values[layer];
    /// <summary>Mask of cached slots, <c>[batch, capacity]</c>; only the first <see cref="Length"/> columns are meaningful.</summary>
    public ReadOnlySpan<long> Mask => _mask;

    /// <summary>
    /// Reserves <paramref name="count"/> new slots with their mask (<c>[batch, count]</c>) and returns their position ids
    /// (<c>[batch·count]</c>): continuing each sequence's <c>cumsum(mask) − 1</c>, 0 at padding. The slots' keys and values
    /// are written by the layers (<see cref="Store"/>) before <see cref="Commit"/>.
    /// </summary>
    internal int[] Reserve(int count, ReadOnlySpan<long> newMask)
    {
        if (Length + count > Capacity)
            throw new InvalidOperationException($"KV cache full: {Length} + {count} positions exceed capacity {Capacity}");
        if (newMask.Length != Batch * count) throw new ArgumentException("mask must be [batch, count]", nameof(newMask));
        var positions = new int[Batch * count];
        for (int b = 0; b < Batch; b++)
        {
            int real = _realTokens[b];
            for (int t = 0; t < count; t++)
            {
                long m = newMask[b * count + t];
                _mask[b * Capacity + Length + t] = m;
                if (m != 0) real++;
                positions[b * count + t] = m != 0 ? real - 1 : 0;
            }
        }
        return positions;
    }

    /// <summary>
    /// Writes layer <paramref name="layer"/>'s keys and values for the reserved slots: row (b, t) of the
    /// <c>[batch·count, ·]</c> sources (rows of <paramref name="keyStride"/>/<paramref name="valueStride"/> floats, the
    /// entries starting at <paramref name="keyOffset"/>/<paramref name="valueOffset"/>) goes to slot <c>Length + t</c> of sequence b.
    /// </summary>
    internal void Store(int layer, int count, ReadOnlySpan<float> keys, int keyOffset, int keyStride,
        ReadOnlySpan<float> values, int valueOffset, int valueStride)
    {
        Span<float> k = _keys[layer], v = _values[layer];
        for (int b = 0; b < Batch; b++)
        for (int t = 0; t < count; t++)
        {
            int row = b * count + t, slot = (b * Capacity + Length + t) * Width;
            keys.Slice(row * keyStride + keyOffset, Width).CopyTo(k.Slice(slot, Width));
            values.Slice(row * valueStride + valueOffset, Width).CopyTo(v.Slice(slot, Width));
        }
    }

    /// <summary>Marks the reserved slots as filled once every layer has written them.</summary>
    internal void Commit(int count, ReadOnlySpan<long> newMask)
    {
        for (int b = 0; b < Batch; b++)
            for (int t = 0; t < count; t++)
                if (newMask[b * count + t] != 0) _realTokens[b]++;
        Length += count;
    }
}
