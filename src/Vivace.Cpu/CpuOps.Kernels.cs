using System.Runtime.CompilerServices;
using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>The validated entry points hand pinned pointers to the kernels here, splitting large work over the pool.</summary>
public sealed unsafe partial class CpuOps
{
    /// <summary>Element-wise work below this many floats runs on the calling thread: waking workers costs more.</summary>
    private const int ParallelElementThreshold = 1 << 15;
    /// <summary>Element-wise work is cut into chunks of this many floats (a multiple of every vector width).</summary>
    private const int ElementChunk = 1 << 14;

    private void LinearCore(ReadOnlySpan<float> x, PackedLinearWeight w, Span<float> y, int rows, Activation activation)
    {
        fixed (float* px = x)
        fixed (float* py = y)
            Gemm.Run(Path, _pool, px, rows, w, py, activation);
    }

    private void LayerNormCore(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, bool hasResidual,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float epsilon, Span<float> output, Span<float> sum, bool hasSum,
        int rows, int features)
    {
        fixed (float* pi = input)
        fixed (float* pr = residual)
        fixed (float* pg = gamma)
        fixed (float* pb = beta)
        fixed (float* po = output)
        fixed (float* ps = sum)
        {
            var work = new LayerNormWork
            {
                Path = Path, Input = pi, Residual = hasResidual ? pr : null, Gamma = pg, Beta = pb, Output = po, Sum = hasSum ? ps : null,
                Epsilon = epsilon, Features = features, Rows = rows,
                RowsPerItem = Math.Max(1, ElementChunk / Math.Max(1, features)),
            };
            int items = (rows + work.RowsPerItem - 1) / work.RowsPerItem;
            RunParallel((long)rows * features, items, work);
        }
    }

    private struct LayerNormWork : IParallelWork
    {
        public KernelPath Path;
        public float* Input, Residual, Gamma, Beta, Output, Sum;
        public float Epsilon;
        public int Features, Rows, RowsPerItem;

        public readonly void Execute(int index)
        {
            // Locals out of fields before the row loop.
            KernelPath path = Path;
            float* input = Input, residual = Residual, gamma = Gamma, beta = Beta, output = Output, sum = Sum;
            float epsilon = Epsilon;
            int n = Features, end = Math.Min(Rows, (index + 1) * RowsPerItem);
            for (int r = index * RowsPerItem; r < end; r++)
            {
                nint offset = (nint)r * n;
                Elementwise.LayerNormRow(path, input + offset, residual == null ? null : residual + offset, gamma, beta, epsilon,
                    output + offset, n, sum == null ? null : sum + offset);
            }
        }
    }

    private void ActivateCore(Span<float> x, Activation activation)
    {
        if (activation == Activation.None) return;
        fixed (float* px = x)
        {
            var work = new ElementwiseWork { Path = Path, X = px, Length = x.Length, Activation = activation };
            RunParallel(x.Length, (x.Length + ElementChunk - 1) / ElementChunk, work);
        }
    }

    private void AddCore(Span<float> x, ReadOnlySpan<float> addend)
    {
        fixed (float* px = x)
        fixed (float* pa = addend)
        {
            var work = new ElementwiseWork { Path = Path, X = px, Addend = pa, Length = x.Length };
            RunParallel(x.Length, (x.Length + ElementChunk - 1) / ElementChunk, work);
        }
    }

    /// <summary>One chunk of an element-wise op: an add when Addend is set, else the activation.</summary>
    private struct ElementwiseWork : IParallelWork
    {
        public KernelPath Path;
        public float* X, Addend;
        public int Length;
        public Activation Activation;

        public readonly void Execute(int index)
        {
            int start = index * ElementChunk, count = Math.Min(ElementChunk, Length - start);
            if (Addend != null) Elementwise.Add(Path, X + start, Addend + start, count);
            else Elementwise.Activate(Path, X + start, count, Activation);
        }
    }

    private void RunParallel<TWork>(long elements, int items, in TWork work) where TWork : unmanaged, IParallelWork
    {
        if (elements < ParallelElementThreshold || _pool is null)
        {
            for (int i = 0; i < items; i++) work.Execute(i);
        }
        else
        {
            _pool.For(items, work);
        }
    }

    private static void GatherCore(ReadOnlySpan<float> table, ReadOnlySpan<int> ids, Span<float> output, int dim, bool accumulate)
    {
        fixed (float* pt = table)
        fixed (float* po = output)
        {
            KernelPath path = KernelPaths.Best;
            for (int i = 0; i < ids.Length; i++)
            {
                float* src = pt + (nint)ids[i] * dim, dst = po + (nint)i * dim;
                if (accumulate) Elementwise.Add(path, dst, src, dim);
                else new ReadOnlySpan<float>(src, dim).CopyTo(new Span<float>(dst, dim));
            }
        }
    }

    private void AttentionCore(Tensor query, Tensor key, Tensor value, Tensor output, RaggedBatch batch, int heads,
        int headDim, float scale, IReadOnlyList<Tensor>? bias)
    {
        fixed (float* q = query.AsSpan())
        fixed (float* k = key.AsSpan())
        fixed (float* v = value.AsSpan())
        fixed (float* o = output.AsSpan())
            AttentionCore(q, k, v, heads * headDim, o, heads * headDim, batch, heads, headDim, scale, bias);
    }

    /// <summary>Attention over a packed <c>[tokens, 3·H]</c> Q|K|V matrix: the three are column slices of it.</summary>
    private void FusedAttentionCore(Tensor queryKeyValue, Tensor output, RaggedBatch batch, int heads, int headDim, float scale,
        IReadOnlyList<Tensor>? bias)
    {
        int width = heads * headDim;
        fixed (float* qkv = queryKeyValue.AsSpan())
        fixed (float* o = output.AsSpan())
            AttentionCore(qkv, qkv + width, qkv + 2 * width, 3 * width, o, width, batch, heads, headDim, scale, bias);
    }

    private void AttentionCore(float* q, float* k, float* v, int inputStride, float* o, int outputStride, RaggedBatch batch, int heads,
        int headDim, float scale, IReadOnlyList<Tensor>? bias)
    {
        int sequences = batch.Count;
        if (sequences == 0 || batch.TotalTokens == 0) return;
        int* starts = stackalloc int[sequences];
        int* lengths = stackalloc int[sequences];
        float** biases = stackalloc float*[sequences];
        for (int s = 0; s < sequences; s++)
        {
            starts[s] = batch.Start(s);
            lengths[s] = batch.Length(s);
            biases[s] = null;
        }
        var work = new AttentionKernel.Work
        {
            Path = Path, Q = q, K = k, V = v, O = o, Starts = starts, Lengths = lengths,
            Biases = bias is null ? null : biases, Heads = heads, HeadDim = headDim, Scale = scale,
            InputStride = inputStride, OutputStride = outputStride,
        };
        if (bias is null) RunAttention(work, sequences * heads);
        else PinBiasesThenRun(bias, 0, biases, work, sequences * heads);
    }

    /// <summary>Pins each sequence's bias with a nested <c>fixed</c> (one frame per sequence), then runs all items.</summary>
    private void PinBiasesThenRun(IReadOnlyList<Tensor> bias, int sequence, float** biases, in AttentionKernel.Work work, int items)
    {
        if (sequence == bias.Count)
        {
            RunAttention(work, items);
            return;
        }
        fixed (float* b = bias[sequence].AsSpan())
        {
            biases[sequence] = b;
            PinBiasesThenRun(bias, sequence + 1, biases, work, items);
        }
    }

    private void RunAttention(in AttentionKernel.Work work, int items)
    {
        if (_pool is null) for (int i = 0; i < items; i++) work.Execute(i);
        else _pool.For(items, work);
    }
}
