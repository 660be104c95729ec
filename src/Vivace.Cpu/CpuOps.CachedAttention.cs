using Vivace.Tensors;

namespace Vivace.Cpu;

public sealed unsafe partial class CpuOps
{
    public void CachedAttention(ReadOnlySpan<float> query, int queryStride, ReadOnlySpan<float> keys, ReadOnlySpan<float> values,
        ReadOnlySpan<long> mask, Span<float> output, CachedAttentionShape shape)
    {
        var s = shape;
        if (s.Batch < 1 || s.Count < 1 || s.Heads < 1 || s.KeyValueHeads < 1 || s.HeadDim < 1)
            throw new ArgumentOutOfRangeException(nameof(shape), $"{shape}: batch, count, heads and head size must be positive");
        if (s.Heads % s.KeyValueHeads != 0)
            throw new ArgumentException($"{s.KeyValueHeads} key/value heads do not divide {s.Heads} heads", nameof(shape));
        if (s.Start < 0 || s.Start + s.Count > s.Capacity)
            throw new ArgumentOutOfRangeException(nameof(shape), $"slots {s.Start}..{s.Start + s.Count - 1} are outside a cache of {s.Capacity}");
        if (s.SlidingWindow < 0) throw new ArgumentOutOfRangeException(nameof(shape), "the sliding window cannot be negative");
        int width = s.Heads * s.HeadDim, kvWidth = s.KeyValueHeads * s.HeadDim, rows = s.Batch * s.Count;
        if (queryStride < width) throw new ArgumentException($"query rows of {queryStride} floats cannot hold {width}", nameof(queryStride));
        if (query.Length < (long)(rows - 1) * queryStride + width)
            throw new ArgumentException($"query holds {query.Length} floats; {rows} rows of stride {queryStride} need more", nameof(query));
        long cached = (long)s.Batch * s.Capacity * kvWidth;
        if (keys.Length < cached || values.Length < cached)
            throw new ArgumentException($"keys and values must hold [batch {s.Batch}, capacity {s.Capacity}, {kvWidth}]", nameof(keys));
        if (mask.Length < s.Batch * s.Capacity) throw new ArgumentException($"mask must hold [batch {s.Batch}, capacity {s.Capacity}]", nameof(mask));
        if (output.Length < (long)rows * width) throw new ArgumentException($"output must hold [{rows}, {width}]", nameof(output));
        if (output.Overlaps(query)) throw new ArgumentException("output overlaps the query", nameof(output));

        fixed (float* q = query, k = keys, v = values, o = output)
        fixed (long* m = mask)
        {
            var work = new CachedAttentionKernel.Work { Path = Path, Q = q, K = k, V = v, O = o, Mask = m, QueryStride = queryStride, Shape = s };
            RunParallel((long)rows * s.Heads * (s.Start + s.Count) * s.HeadDim, rows * s.KeyValueHeads, work);
        }
    }
}
