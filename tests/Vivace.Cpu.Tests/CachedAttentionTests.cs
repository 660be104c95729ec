using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

/// <summary>
/// CpuOps.CachedAttention on every kernel path and thread count against a double-precision reference: grouped-query
/// heads, left padding (masked slots, a fully masked leading query), a sliding window, queries inside fused QKV rows,
/// head sizes with and without a lane tail; and a query's result bit-identical whatever its batch-mates.
/// </summary>
public class CachedAttentionTests
{
    /// <summary>softmax over visible slots of q·k·scale, then Σ p·v, in double.</summary>
    private static double[] Reference(float[] q, int stride, float[] k, float[] v, long[] mask, CachedAttentionShape s)
    {
        int width = s.Heads * s.HeadDim, kvWidth = s.KeyValueHeads * s.HeadDim, group = s.Heads / s.KeyValueHeads;
        var o = new double[s.Batch * s.Count * width];
        for (int b = 0; b < s.Batch; b++)
        for (int t = 0; t < s.Count; t++)
        for (int h = 0; h < s.Heads; h++)
        {
            int slot = s.Start + t, kvh = h / group;
            var scores = new List<(int J, double S)>();
            for (int j = 0; j <= slot; j++)
            {
                if (mask[b * s.Capacity + j] == 0 || (s.SlidingWindow > 0 && slot - j >= s.SlidingWindow)) continue;
                double dot = 0;
                for (int d = 0; d < s.HeadDim; d++)
                    dot += (double)q[(b * s.Count + t) * stride + h * s.HeadDim + d] * k[(b * s.Capacity + j) * kvWidth + kvh * s.HeadDim + d];
                scores.Add((j, dot * s.Scale));
            }
            if (scores.Count == 0) continue;
            double max = scores.Max(x => x.S), sum = scores.Sum(x => Math.Exp(x.S - max));
            foreach (var (j, sc) in scores)
            {
                double p = Math.Exp(sc - max) / sum;
                for (int d = 0; d < s.HeadDim; d++)
                    o[(b * s.Count + t) * width + h * s.HeadDim + d] += p * v[(b * s.Capacity + j) * kvWidth + kvh * s.HeadDim + d];
            }
        }
        return o;
    }

    public static TheoryData<int, int, int, int, int, int, int> Cases => new()
    {
        // batch, count, start, heads, kvHeads, headDim, window
        { 2, 1, 9, 4, 2, 64, 0 },    // decode step, GQA
        { 2, 7, 0, 4, 4, 8, 0 },     // prefill, head size below one 512-bit vector
        { 1, 5, 3, 6, 2, 37, 0 },    // a lane tail in the head dimension
        { 3, 4, 6, 4, 1, 16, 4 },    // sliding window, one kv head
        { 1, 1, 5000, 2, 1, 64, 0 }, // a long context: scores beyond the stack buffer
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryPathMatchesTheReference(int batch, int count, int start, int heads, int kvHeads, int headDim, int window)
    {
        int capacity = start + count + 2, width = heads * headDim, kvWidth = kvHeads * headDim;
        int stride = width + 2 * kvWidth; // queries inside fused QKV rows
        float[] q = Vivace.Cpu.Tests.Reference.Random(batch * count * stride, 1);
        float[] k = Vivace.Cpu.Tests.Reference.Random(batch * capacity * kvWidth, 2);
        float[] v = Vivace.Cpu.Tests.Reference.Random(batch * capacity * kvWidth, 3);
        var mask = new long[batch * capacity];
        Array.Fill(mask, 1L);
        // Sequence 0 is left-padded by three slots (its queries there, if any, see nothing).
        for (int j = 0; j < Math.Min(3, capacity); j++) mask[j] = 0;
        var shape = new CachedAttentionShape(batch, count, start, capacity, heads, kvHeads, headDim, 1f / MathF.Sqrt(headDim), window);
        double[] expected = Reference(q, stride, k, v, mask, shape);

        foreach (KernelPath path in KernelPaths.Supported)
            foreach (int threads in new[] { 1, 2 })
            {
                using var ops = new CpuOps(threads, path);
                var o = new float[batch * count * width];
                Array.Fill(o, float.NaN);
                ops.CachedAttention(q, stride, k, v, mask, o, shape);
                for (int i = 0; i < o.Length; i++)
                    if (!(Math.Abs(o[i] - expected[i]) <= 2e-6 + 1e-5 * Math.Abs(expected[i])))
                        Assert.Fail($"{path} threads={threads}: o[{i}] = {o[i]:R}, expected {expected[i]:R}");
            }
    }

    [Fact]
    public void AQuerysResultDoesNotDependOnItsBatchMates()
    {
        const int Capacity = 40, Heads = 4, KvHeads = 2, HeadDim = 64, Width = Heads * HeadDim, KvWidth = KvHeads * HeadDim;
        float[] q = Vivace.Cpu.Tests.Reference.Random(3 * Width, 4), k = Vivace.Cpu.Tests.Reference.Random(3 * Capacity * KvWidth, 5);
        float[] v = Vivace.Cpu.Tests.Reference.Random(3 * Capacity * KvWidth, 6);
        var mask = new long[3 * Capacity];
        Array.Fill(mask, 1L);
        using var ops = new CpuOps(2);
        var all = new float[3 * Width];
        ops.CachedAttention(q, Width, k, v, mask, all, new CachedAttentionShape(3, 1, 30, Capacity, Heads, KvHeads, HeadDim, 0.125f));
        var alone = new float[Width];
        ops.CachedAttention(q.AsSpan(2 * Width, Width), Width, k.AsSpan(2 * Capacity * KvWidth), v.AsSpan(2 * Capacity * KvWidth),
            mask.AsSpan(2 * Capacity), alone, new CachedAttentionShape(1, 1, 30, Capacity, Heads, KvHeads, HeadDim, 0.125f));
        Assert.True(alone.AsSpan().SequenceEqual(all.AsSpan(2 * Width)));
    }

    [Fact]
    public void BadShapesAreRefused()
    {
        using var ops = new CpuOps(1);
        float[] buffer = new float[1024];
        long[] mask = new long[64];
        Assert.Throws<ArgumentException>(() => ops.CachedAttention(buffer, 8, buffer, buffer, mask, new float[64], new(1, 1, 0, 4, 3, 2, 8, 1f)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ops.CachedAttention(buffer, 8, buffer, buffer, mask, new float[64], new(1, 2, 3, 4, 1, 1, 8, 1f)));
        Assert.Throws<ArgumentException>(() => ops.CachedAttention(buffer, 4, buffer, buffer, mask, new float[64], new(1, 1, 0, 4, 1, 1, 8, 1f)));
        Assert.Throws<ArgumentException>(() => ops.CachedAttention(buffer, 8, buffer, buffer, mask, buffer, new(1, 1, 0, 4, 1, 1, 8, 1f)));
    }
}
