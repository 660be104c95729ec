using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

/// <summary>
/// Every SIMD kernel on every path this machine supports (called explicitly), against double references,
/// for every length 0..300 and odd GEMM shapes. Paths the machine lacks are not listed, so they are not run.
/// </summary>
public unsafe class KernelPathTests
{
    public static TheoryData<KernelPath> Paths()
    {
        var data = new TheoryData<KernelPath>();
        foreach (KernelPath p in KernelPaths.Supported) data.Add(p);
        return data;
    }

    [Fact]
    public void ScalarAndTheBestPathAreAlwaysSupported()
    {
        Assert.Contains(KernelPath.Scalar, KernelPaths.Supported);
        Assert.Contains(KernelPaths.Best, KernelPaths.Supported);
        // The widest path, unless VIVACE_CPU_PATH forces a supported one.
        bool forced = Enum.TryParse(Environment.GetEnvironmentVariable(KernelPaths.ForcePathVariable), true, out KernelPath wanted)
            && KernelPaths.IsSupported(wanted);
        Assert.Equal(forced ? wanted : KernelPaths.Supported.Max(), KernelPaths.Best);
        Assert.Equal(KernelPaths.Best, new CpuOps(1).Path);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MicroTileMatchesReferenceForEveryRowCountAndDepth(KernelPath path)
    {
        // The production blocking, and both 8- and 6-row kernels on this lane width (the 8-row one is AVX-512's).
        foreach (int tileRows in new[] { GemmMicroKernels.TileRows(path), 8, 6 }.Distinct())
            CheckMicroTile(path, tileRows);
    }

    private static void CheckMicroTile(KernelPath path, int tileRows)
    {
        const int W = GemmMicroKernels.PanelWidth;
        foreach (int kc in new[] { 0, 1, 2, 3, 17, 64, 257 })
            for (int rows = 1; rows <= tileRows; rows++)
                foreach (bool accumulate in new[] { false, true })
                    foreach (bool withBias in new[] { false, true })
                    {
                        int lda = kc + 3, ldc = W + 5;
                        float[] a = Reference.Random(tileRows * lda, kc * 31 + rows), b = Reference.Random(kc * W, kc + 7);
                        float[] bias = Reference.Random(W, 99), c = Reference.Random(tileRows * ldc, rows + 1000);
                        float[] before = (float[])c.Clone();
                        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c) fixed (float* pbias = bias)
                            GemmMicroKernels.TileOfShape(path, tileRows, pa, lda, pb, kc, pc, ldc, rows, withBias ? pbias : null, accumulate);
                        for (int r = 0; r < tileRows; r++)
                            for (int j = 0; j < ldc; j++)
                            {
                                float got = c[r * ldc + j];
                                if (r >= rows || j >= W)
                                {
                                    // Outside the tile nothing may change.
                                    Assert.Equal(before[r * ldc + j], got);
                                    continue;
                                }
                                double expected = accumulate ? before[r * ldc + j] : withBias ? bias[j] : 0;
                                double magnitude = Math.Abs(expected);
                                for (int k = 0; k < kc; k++)
                                {
                                    expected += (double)a[r * lda + k] * b[k * W + j];
                                    magnitude += Math.Abs((double)a[r * lda + k] * b[k * W + j]);
                                }
                                double tolerance = 1e-6 * magnitude * Math.Max(1, Math.Log2(kc + 1)) + 1e-7;
                                if (!(Math.Abs(got - expected) <= tolerance))
                                    Assert.Fail($"{path} {tileRows}-row tile kc={kc} rows={rows} acc={accumulate} bias={withBias}: c[{r},{j}] = {got:R}, expected {expected:R}");
                            }
                    }
    }

    /// <summary>One double-precision reference per shape, then every path and thread count against it.</summary>
    public static TheoryData<int, int> GemmShapeGroups()
    {
        var data = new TheoryData<int, int>();
        foreach (int m in new[] { 1, 3, 7, 17, 33, 129 })
            foreach (int k in new[] { 1, 7, 31, 257, 385 })
                data.Add(m, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(GemmShapeGroups))]
    public void LinearOnEveryPathMatchesReferenceForOddShapes(int m, int k)
    {
        foreach (int n in new[] { 1, 3, 31, 33, 65, 383 })
        {
            float[] x = Reference.Random(m * k, m + k), w = Reference.Random(n * k, n), bias = Reference.Random(n, 5);
            var (expected, magnitude) = Reference.Linear(x, w, bias, m, k, n, Activation.Relu);
            foreach (KernelPath path in KernelPaths.Supported)
                foreach (int threads in new[] { 1, 2 })
                {
                    using var ops = new CpuOps(threads, path);
                    var y = Tensor.Zeros(m, n);
                    y.AsSpan().Fill(float.NaN);
                    ops.Linear(Tensor.FromArray(x, m, k), ops.PrepareLinear(Tensor.FromArray(w, n, k), Tensor.FromArray(bias, n)), y, Activation.Relu);
                    ReadOnlySpan<float> got = y.AsSpan();
                    for (int i = 0; i < expected.Length; i++)
                    {
                        double tolerance = 1e-5 * magnitude[i] + 1e-7;
                        if (!(Math.Abs(got[i] - expected[i]) <= tolerance))
                            Assert.Fail($"{path} threads={threads} m={m} k={k} n={n}: y[{i / n},{i % n}] = {got[i]:R}, expected {expected[i]:R}");
                    }
                }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ActivationsMatchReferenceForEveryLengthUpTo300(KernelPath path)
    {
        foreach (Activation act in Enum.GetValues<Activation>())
            for (int length = 0; length <= 300; length++)
            {
                float[] x = Reference.Random(length, length, 6f);
                double[] expected = x.Select(v => Reference.Activate(v, act)).ToArray();
                var padded = new float[length + 2];
                padded[0] = padded[^1] = 12345f; // guards: the kernel must not write outside its range
                x.CopyTo(padded, 1);
                fixed (float* p = padded) Elementwise.Activate(path, p + 1, length, act);
                Assert.Equal(12345f, padded[0]);
                Assert.Equal(12345f, padded[^1]);
                Reference.AssertClose(expected, padded.AsSpan(1, length), 1e-6, 2e-6, $"{path} {act} length={length}");
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ErfGeluIsAccurateOverTheWholeRange(KernelPath path)
    {
        // A fine grid over [-8, 8] plus the extremes: |GELU error| stays ~1e-6 absolute.
        var x = new List<float> { float.MaxValue / 4, -float.MaxValue / 4, 1e-30f, -1e-30f, 0f, -0f, 100f, -100f };
        for (int i = -8000; i <= 8000; i++) x.Add(i / 1000f);
        float[] data = x.ToArray();
        fixed (float* p = data) Elementwise.Activate(path, p, data.Length, Activation.Gelu);
        for (int i = 0; i < data.Length; i++)
        {
            double expected = Reference.Activate(x[i], Activation.Gelu);
            Assert.True(Math.Abs(data[i] - expected) <= 1e-6 + 1e-6 * Math.Abs(expected),
                $"{path} GELU({x[i]:R}) = {data[i]:R}, expected {expected:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void TanhKeepsRelativeAccuracyNearZero(KernelPath path)
    {
        float[] x = Enumerable.Range(-550, 1101).Select(i => MathF.Sign(i) * MathF.Pow(10f, -6f + Math.Abs(i) / 100f)).ToArray(); // ±1e-6 .. ±0.3, and 0
        float[] y = (float[])x.Clone();
        fixed (float* p = y) Elementwise.Activate(path, p, y.Length, Activation.Tanh);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Tanh(x[i]);
            Assert.True(Math.Abs(y[i] - expected) <= 2e-6 * Math.Abs(expected), $"{path} tanh({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
    }

    /// <summary>The vector kernels take the CPU's own min/max (NaN goes to one operand): a NaN input still comes out NaN
    /// from every activation, in every lane position, and a NaN score makes a softmax row NaN, as in PyTorch.</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void NaNPropagatesThroughActivationsAndSoftmax(KernelPath path)
    {
        foreach (Activation act in new[] { Activation.Gelu, Activation.GeluTanh, Activation.Tanh, Activation.Silu, Activation.Relu })
            for (int at = 0; at < 37; at++)
            {
                float[] x = Reference.Random(37, at, 3f);
                x[at] = float.NaN;
                fixed (float* p = x) Elementwise.Activate(path, p, x.Length, act);
                Assert.True(float.IsNaN(x[at]), $"{path} {act}: NaN at {at} became {x[at]}");
                for (int i = 0; i < x.Length; i++) if (i != at) Assert.False(float.IsNaN(x[i]), $"{path} {act}: NaN leaked to {i}");
            }
        foreach (int length in new[] { 1, 7, 16, 33 })
            for (int at = 0; at < length; at++)
            {
                float[] s = Reference.Random(length, length + at, 5f);
                s[at] = float.NaN;
                fixed (float* p = s) Softmax.Row(path, p, length, 0.5f, null);
                Assert.All(s, v => Assert.True(float.IsNaN(v), $"{path} softmax length {length}, NaN at {at}"));
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void AddMatchesForEveryLengthUpTo300(KernelPath path)
    {
        for (int length = 0; length <= 300; length++)
        {
            float[] x = Reference.Random(length + 1, length), y = Reference.Random(length + 1, length + 1);
            float[] expected = x.Select((v, i) => i < length ? v + y[i] : v).ToArray();
            fixed (float* px = x) fixed (float* py = y) Elementwise.Add(path, px, py, length);
            Assert.Equal(expected, x);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void LayerNormRowMatchesReferenceForEveryWidthUpTo300(KernelPath path)
    {
        for (int n = 1; n <= 300; n++)
        {
            float[] x = Reference.Random(n, n, 4f), res = Reference.Random(n, n + 1), g = Reference.Random(n, n + 2), b = Reference.Random(n, n + 3);
            for (int i = 0; i < n; i++) x[i] += 50f;
            double[] expected = Reference.LayerNorm(x, res, g, b, 1e-5, 1, n);
            var y = new float[n + 1];
            y[n] = 777f;
            fixed (float* px = x) fixed (float* pr = res) fixed (float* pg = g) fixed (float* pb = b) fixed (float* py = y)
                Elementwise.LayerNormRow(path, px, pr, pg, pb, 1e-5f, py, n);
            Assert.Equal(777f, y[n]);
            Reference.AssertClose(expected, y.AsSpan(0, n), 2e-5, 2e-5, $"{path} layer norm n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void SoftmaxRowMatchesReferenceForEveryLengthUpTo300(KernelPath path)
    {
        for (int length = 0; length <= 300; length++)
        {
            float[] s = Reference.Random(length + 1, length, 20f), bias = Reference.Random(length, length + 9, 5f);
            if (length > 2) bias[1] = float.NegativeInfinity;
            s[length] = 555f;
            var expected = new double[length];
            double max = double.NegativeInfinity, total = 0;
            for (int j = 0; j < length; j++) max = Math.Max(max, expected[j] = s[j] * 0.3 + bias[j]);
            for (int j = 0; j < length; j++) total += expected[j] = Math.Exp(expected[j] - max);
            for (int j = 0; j < length; j++) expected[j] /= total;
            fixed (float* ps = s) fixed (float* pb = bias) Softmax.Row(path, ps, length, 0.3f, pb);
            Assert.Equal(555f, s[length]);
            Reference.AssertClose(expected, s.AsSpan(0, length), 1e-7, 2e-6, $"{path} softmax length={length}");
            if (length > 2) Assert.Equal(0f, s[1]);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void AttentionOnEveryPathMatchesReference(KernelPath path)
    {
        int[] lengths = [0, 1, 2, 31, 33, 70];
        foreach (int headDim in new[] { 1, 7, 32, 33, 64 })
        {
            const int heads = 2;
            int tokens = lengths.Sum(), width = heads * headDim;
            float[] q = Reference.Random(tokens * width, headDim, 2f), k = Reference.Random(tokens * width, headDim + 1, 2f), v = Reference.Random(tokens * width, headDim + 2);
            float[][] bias = lengths.Select((l, i) => Reference.Random(heads * l * l, i, 2f)).ToArray();
            float scale = 1f / MathF.Sqrt(headDim);
            double[] expected = Reference.Attention(q, k, v, lengths, heads, headDim, scale, bias);
            using var ops = new CpuOps(2, path);
            var o = Tensor.Zeros(tokens, width);
            ops.Attention(Tensor.FromArray(q, tokens, width), Tensor.FromArray(k, tokens, width), Tensor.FromArray(v, tokens, width), o,
                new RaggedBatch(lengths), heads, scale, bias.Select((b, i) => Tensor.FromArray(b, heads, lengths[i], lengths[i])).ToArray());
            Reference.AssertClose(expected, o.AsSpan(), 1e-5, 1e-5, $"{path} attention headDim={headDim}");
        }
    }
}
