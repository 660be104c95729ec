namespace Vivace.Models.Decoders;

/// <summary>
/// Eager causal attention of new queries over a <see cref="KvCache"/> layer, shared by every decoder: grouped-query
/// heads, left padding masked through the cache's mask, an optional sliding window. Scalar for correctness; the fused
/// blocked kernel replaces it in the CPU acceleration work.
/// </summary>
internal static class CausalAttention
{
    /// <summary>
    /// Queries <paramref name="q"/> <c>[batch·count, heads·headDim]</c> (row stride <paramref name="queryStride"/>) for the
    /// <paramref name="count"/> new slots start..start+count−1 of each sequence attend over cached keys/values
    /// <c>[batch, capacity, kvHeads·headDim]</c>: the query in slot s sees slots j ≤ s whose mask is set and, with a
    /// <paramref name="slidingWindow"/> w, only those with s − j &lt; w (transformers' sliding_window_overlay, counted in
    /// cache slots). A query that sees nothing (a leading padding slot) gets zeros. Output <c>[batch·count, heads·headDim]</c>.
    /// </summary>
    public static void Run(ReadOnlySpan<float> q, int queryStride, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<long> mask, Span<float> output, int batch, int count, int start, int capacity,
        int heads, int kvHeads, int headDim, float scale, int? slidingWindow = null)
    {
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim, group = heads / kvHeads;
        output.Slice(0, batch * count * qWidth).Clear();
        var scores = new float[start + count];
        for (int b = 0; b < batch; b++)
        for (int t = 0; t < count; t++)
        for (int h = 0; h < heads; h++)
        {
            int kvh = h / group, s = start + t;
            int first = slidingWindow is int w ? Math.Max(0, s - w + 1) : 0;
            ReadOnlySpan<float> qi = q.Slice((b * count + t) * queryStride + h * headDim, headDim);
            float max = float.NegativeInfinity;
            for (int j = first; j <= s; j++)
            {
                if (mask[b * capacity + j] == 0) { scores[j] = float.NegativeInfinity; continue; }
                ReadOnlySpan<float> kj = k.Slice((b * capacity + j) * kvWidth + kvh * headDim, headDim);
                float dot = 0;
                for (int d = 0; d < headDim; d++) dot += qi[d] * kj[d];
                scores[j] = dot * scale;
                max = MathF.Max(max, scores[j]);
            }
            if (float.IsNegativeInfinity(max)) continue;
            float sum = 0;
            for (int j = first; j <= s; j++)
            {
                scores[j] = float.IsNegativeInfinity(scores[j]) ? 0 : MathF.Exp(scores[j] - max);
                sum += scores[j];
            }
            Span<float> oi = output.Slice((b * count + t) * qWidth + h * headDim, headDim);
            for (int j = first; j <= s; j++)
            {
                if (scores[j] == 0) continue;
                float p = scores[j] / sum;
                ReadOnlySpan<float> vj = v.Slice((b * capacity + j) * kvWidth + kvh * headDim, headDim);
                for (int d = 0; d < headDim; d++) oi[d] += p * vj[d];
            }
        }
    }
}
