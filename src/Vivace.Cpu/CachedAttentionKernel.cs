using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>
/// A decoder's attention over its KV cache, one work item per (sequence, new query, key/value head) covering the query
/// heads that share it (their keys and values are read once, then hot in cache); per query head: the scores are dot products
/// of the query with each visible cached key (vector lanes over the head dimension, a scalar tail), a max-subtracted
/// softmax, then the output accumulates p·value rows (lanes over the head dimension again). Nothing is shared between
/// items, so a query's result does not depend on its batch-mates or on the thread count.
/// The scalar path (<see cref="OneScalar"/>) is the reference the tests compare every path with.
/// </summary>
[SkipLocalsInit]
internal static unsafe class CachedAttentionKernel
{
    /// <summary>Scores held on the stack up to this many keys; longer contexts borrow a heap buffer.</summary>
    private const int StackScores = 4096;

    public struct Work : IParallelWork
    {
        public KernelPath Path;
        public float* Q, K, V, O;
        public long* Mask;
        public int QueryStride;
        public CachedAttentionShape Shape;

        /// <summary>One item: a (sequence, new query, key/value head) triple and the query heads that share that key/value
        /// head, so each cached key and value row is read once for the whole group (grouped-query attention).</summary>
        public readonly void Execute(int index)
        {
            CachedAttentionShape s = Shape;
            int group = s.Heads / s.KeyValueHeads;
            int kvh = index % s.KeyValueHeads, t = index / s.KeyValueHeads % s.Count, b = index / s.KeyValueHeads / s.Count;
            int slot = s.Start + t, first = s.SlidingWindow > 0 ? Math.Max(0, slot - s.SlidingWindow + 1) : 0;
            int n = slot - first + 1, kvWidth = s.KeyValueHeads * s.HeadDim;
            float* q = Q + (long)(b * s.Count + t) * QueryStride + kvh * group * s.HeadDim;
            float* o = O + (long)(b * s.Count + t) * s.Heads * s.HeadDim + kvh * group * s.HeadDim;
            float* k = K + ((long)b * s.Capacity + first) * kvWidth + kvh * s.HeadDim;
            float* v = V + ((long)b * s.Capacity + first) * kvWidth + kvh * s.HeadDim;
            long* mask = Mask + (long)b * s.Capacity + first;
            int scoreCount = n * group;
            float[]? rented = scoreCount > StackScores ? new float[scoreCount] : null;
            float* stack = stackalloc float[rented is null ? scoreCount : 0];
            fixed (float* heap = rented)
            {
                float* scores = rented is null ? stack : heap;
                for (int g = 0; g < group; g++)
                {
                    // One query head at a time keeps the code plain; its group's keys stay in L1/L2 for the next head.
                    float* qg = q + g * s.HeadDim, og = o + g * s.HeadDim, sg = scores + g * n;
                    switch (Path)
                    {
                        case KernelPath.Vector512: One<Lanes512, Vector512<float>>(qg, k, v, mask, og, sg, n, kvWidth, s.HeadDim, s.Scale); break;
                        case KernelPath.Vector256: One<Lanes256, Vector256<float>>(qg, k, v, mask, og, sg, n, kvWidth, s.HeadDim, s.Scale); break;
                        case KernelPath.Vector128: One<Lanes128, Vector128<float>>(qg, k, v, mask, og, sg, n, kvWidth, s.HeadDim, s.Scale); break;
                        default: OneScalar(qg, k, v, mask, og, sg, n, kvWidth, s.HeadDim, s.Scale); break;
                    }
                }
            }
        }
    }

    /// <summary>One query head over <paramref name="n"/> cached keys/values (rows <paramref name="kvWidth"/> apart).</summary>
    private static void One<TL, TV>(float* q, float* k, float* v, long* mask, float* o, float* scores, int n, int kvWidth,
        int headDim, float scale) where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count, vectorEnd = headDim - headDim % lanes;
        float max = float.NegativeInfinity;
        for (int j = 0; j < n; j++)
        {
            if (mask[j] == 0) { scores[j] = float.NegativeInfinity; continue; }
            float* kj = k + (long)j * kvWidth;
            // Lanes over the head dimension, then the scalar tail.
            TV acc = default;
            int d = 0;
            for (; d < vectorEnd; d += lanes) acc = TL.MultiplyAdd(TL.Load(q + d), TL.Load(kj + d), acc);
            float dot = TL.Sum(acc);
            for (; d < headDim; d++) dot += q[d] * kj[d];
            scores[j] = dot * scale;
            max = MathF.Max(max, scores[j]);
        }
        new Span<float>(o, headDim).Clear();
        if (float.IsNegativeInfinity(max)) return; // nothing visible (a leading padding slot)
        float sum = 0;
        for (int j = 0; j < n; j++)
        {
            float e = float.IsNegativeInfinity(scores[j]) ? 0f : VectorMath.Exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int j = 0; j < n; j++)
        {
            if (scores[j] == 0) continue;
            float* vj = v + (long)j * kvWidth;
            TV p = TL.Splat(scores[j] * inv);
            int d = 0;
            for (; d < vectorEnd; d += lanes) TL.Store(o + d, TL.MultiplyAdd(p, TL.Load(vj + d), TL.Load(o + d)));
            float ps = scores[j] * inv;
            for (; d < headDim; d++) o[d] += ps * vj[d];
        }
    }

    private static void OneScalar(float* q, float* k, float* v, long* mask, float* o, float* scores, int n, int kvWidth,
        int headDim, float scale)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < n; j++)
        {
            if (mask[j] == 0) { scores[j] = float.NegativeInfinity; continue; }
            float* kj = k + (long)j * kvWidth;
            float dot = 0;
            for (int d = 0; d < headDim; d++) dot += q[d] * kj[d];
            scores[j] = dot * scale;
            max = MathF.Max(max, scores[j]);
        }
        for (int d = 0; d < headDim; d++) o[d] = 0;
        if (float.IsNegativeInfinity(max)) return;
        float sum = 0;
        for (int j = 0; j < n; j++)
        {
            scores[j] = float.IsNegativeInfinity(scores[j]) ? 0f : VectorMath.Exp(scores[j] - max);
            sum += scores[j];
        }
        for (int j = 0; j < n; j++)
        {
            if (scores[j] == 0) continue;
            float p = scores[j] / sum;
            float* vj = v + (long)j * kvWidth;
            for (int d = 0; d < headDim; d++) o[d] += p * vj[d];
        }
    }
}
