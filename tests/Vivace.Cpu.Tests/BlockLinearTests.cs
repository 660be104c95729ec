using Vivace.Cpu.Quantized;
using Vivace.Tensors;
using Xunit.Abstractions;

namespace Vivace.Cpu.Tests;

/// <summary>
/// Q8_0 / Q4_0 linear layers: every kernel path and thread count computes, within f32 summation error, the exact
/// double-precision product of the dequantized weight and the Q8_0-quantized-then-dequantized activations; the run-time
/// activation quantizer is bit-exact with the reference; rows do not depend on one another.
/// </summary>
public unsafe class BlockLinearTests(ITestOutputHelper output)
{
    public static TheoryData<BlockFormat, int, int, int> Shapes()
    {
        var data = new TheoryData<BlockFormat, int, int, int>();
        foreach (var format in new[] { BlockFormat.Q8_0, BlockFormat.Q4_0 })
            foreach (var (m, k, n) in new[]
            {
                (1, 32, 1), (1, 768, 999), (2, 96, 37), (3, 2080, 129), (7, 4096, 65), (8, 256, 1000), (17, 160, 33),
                (64, 512, 257), (1, 4096, 511), (64, 2080, 17), (3, 64, 3), (2, 224, 161),
            })
                data.Add(format, m, k, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryPathAndThreadCountMatchesTheExactProduct(BlockFormat format, int m, int k, int n)
    {
        float[] x = Reference.Random(m * k, 41 + k), w = Reference.Random(n * k, 42 + n), b = Reference.Random(n, 43);
        // Uneven magnitudes so blocks get different scales (and one all-zero weight block, one zero activation block).
        for (int i = 0; i < x.Length; i++) x[i] *= 1 + (i / 32 % 5);
        for (int i = 0; i < w.Length; i++) w[i] *= 0.01f * (1 + (i / 32 % 7));
        w.AsSpan(0, 32).Clear();
        x.AsSpan(0, 32).Clear();
        var matrix = QuantizedMatrix.Quantize(Tensor.FromArray(w, n, k), format);
        var (expected, magnitude) = Reference.Linear(QuantizedActivations(x, m, k), matrix.Dequantize().AsSpan().ToArray(), b, m, k, n, Activation.None);

        float[]? scalar = null;
        double worst = 0;
        foreach (KernelPath path in KernelPaths.Supported)
        {
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var ops = new CpuOps(threads, path);
                var y = Tensor.Zeros(m, n);
                y.AsSpan().Fill(float.NaN);
                ops.Linear(Tensor.FromArray(x, m, k), ops.PrepareLinear(matrix, Tensor.FromArray(b, n)), y);
                float[] got = y.AsSpan().ToArray();
                for (int i = 0; i < got.Length; i++)
                {
                    double error = Math.Abs(got[i] - expected[i]);
                    worst = Math.Max(worst, error / (magnitude[i] + 1e-30));
                    Assert.True(error <= 2e-6 * magnitude[i] + 1e-6,
                        $"{format} {path} threads={threads} m={m} k={k} n={n}: y[{i / n},{i % n}] = {got[i]}, exact {expected[i]} (Σ|w·x| {magnitude[i]})");
                }
                // Threads split output rows only: each output's arithmetic is the same, bit for bit.
                if (first is null) first = got;
                else Assert.Equal(first, got);
            }
            if (path == KernelPath.Scalar) scalar = first;
            else
                for (int i = 0; i < first!.Length; i++)
                    Assert.True(Math.Abs(first[i] - scalar![i]) <= 4e-6 * magnitude[i] + 2e-6, $"{format} {path} differs from scalar at {i}: {first[i]} vs {scalar[i]}");
        }
        output.WriteLine($"worst |error| / Σ|w·x| = {worst:E2}");
    }

    /// <summary>x through the reference Q8_0 quantizer and back: what the kernels multiply by.</summary>
    private static float[] QuantizedActivations(float[] x, int m, int k)
    {
        var result = new float[x.Length];
        var blocks = new byte[BlockFormat.Q8_0.RowBytes(k)];
        for (int r = 0; r < m; r++)
        {
            BlockQuantization.QuantizeRow(BlockFormat.Q8_0, x.AsSpan(r * k, k), blocks);
            BlockQuantization.DequantizeRow(BlockFormat.Q8_0, blocks, result.AsSpan(r * k, k));
        }
        return result;
    }

    [Fact]
    public void ActivationQuantizerIsBitExactWithTheReference()
    {
        const int blocks = 9;
        float[] x = Reference.Random(blocks * 32, 7, 3f);
        // Block 1: all zero. Block 2: max 127, so d = 1 and x·(1/d) hits exact ties (±n.5 round away from zero).
        x.AsSpan(32, 32).Clear();
        for (int i = 0; i < 32; i++) x[64 + i] = i == 0 ? 127f : (i % 2 == 0 ? 1 : -1) * (i + 0.5f);
        // Block 3: values just below a tie; block 4: tiny values (subnormal fp16 scale); block 5: huge values.
        for (int i = 0; i < 32; i++) x[96 + i] = i == 0 ? -127f : BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(i + 0.5f) - 1);
        for (int i = 0; i < 32; i++) x[128 + i] *= 1e-7f;
        for (int i = 0; i < 32; i++) x[160 + i] *= 6e4f;
        var reference = new byte[BlockFormat.Q8_0.RowBytes(x.Length)];
        BlockQuantization.QuantizeRow(BlockFormat.Q8_0, x, reference);
        foreach (KernelPath path in KernelPaths.Supported)
        {
            var q = new sbyte[blocks * 32];
            var d = new float[blocks];
            var c = new float[blocks];
            fixed (float* px = x)
            fixed (sbyte* pq = q)
            fixed (float* pd = d)
            fixed (float* pc = c)
                ActivationQuantizer.QuantizeRow(path, px, blocks, pq, pd, pc);
            for (int b = 0; b < blocks; b++)
            {
                Assert.Equal((float)BitConverter.UInt16BitsToHalf((ushort)(reference[b * 34] | reference[b * 34 + 1] << 8)), d[b]);
                int sum = 0;
                for (int i = 0; i < 32; i++)
                {
                    Assert.True((sbyte)reference[b * 34 + 2 + i] == q[b * 32 + i], $"{path}: block {b} value {i}: {q[b * 32 + i]}, reference {(sbyte)reference[b * 34 + 2 + i]}");
                    sum += q[b * 32 + i];
                }
                Assert.Equal(-8f * d[b] * sum, c[b]);
            }
        }
    }

    [Theory]
    [InlineData(BlockFormat.Q8_0)]
    [InlineData(BlockFormat.Q4_0)]
    public void BatchRowsEqualSingleRows(BlockFormat format)
    {
        const int m = 9, k = 320, n = 77;
        float[] x = Reference.Random(m * k, 51);
        var matrix = QuantizedMatrix.Quantize(Tensor.FromArray(Reference.Random(n * k, 52), n, k), format);
        foreach (KernelPath path in KernelPaths.Supported)
        {
            using var ops = new CpuOps(2, path);
            var weight = ops.PrepareLinear(matrix, null);
            var batch = Tensor.Zeros(m, n);
            ops.Linear(Tensor.FromArray(x, m, k), weight, batch);
            for (int r = 0; r < m; r++)
            {
                var single = Tensor.Zeros(1, n);
                ops.Linear(Tensor.FromArray(x.AsSpan(r * k, k).ToArray(), 1, k), weight, single);
                Assert.Equal(single.AsSpan().ToArray(), batch.AsSpan().Slice(r * n, n).ToArray());
            }
        }
    }

    [Fact]
    public void BiasActivationAndShapeErrors()
    {
        using var ops = new CpuOps(2);
        const int k = 64, n = 5;
        var matrix = QuantizedMatrix.Quantize(Tensor.Zeros(n, k), BlockFormat.Q4_0);
        float[] b = [-2f, -1f, 0f, 1f, 2f];
        var weight = ops.PrepareLinear(matrix, Tensor.FromArray(b, n));
        Assert.IsType<BlockLinearWeight>(weight);
        Assert.Equal((k, n), (weight.InFeatures, weight.OutFeatures));
        var y = Tensor.Zeros(2, n);
        ops.Linear(Tensor.FromArray(Reference.Random(2 * k, 3), 2, k), weight, y, Activation.Relu);
        Assert.Equal(new float[] { 0, 0, 0, 1, 2, 0, 0, 0, 1, 2 }, y.AsSpan().ToArray());
        Assert.Throws<ArgumentException>(() => ops.Linear(Tensor.Zeros(2, k - 32), weight, y));
        Assert.Throws<ArgumentException>(() => ops.Linear(Tensor.Zeros(2, k), weight, Tensor.Zeros(3, n)));
        Assert.Throws<ArgumentException>(() => ops.Linear(Tensor.Zeros(2, k), weight, Tensor.Zeros(2, n + 1)));
        Assert.Throws<ArgumentException>(() => ops.PrepareLinear(matrix, Tensor.Zeros(n + 1)));
        var square = ops.PrepareLinear(QuantizedMatrix.Quantize(Tensor.Zeros(k, k), BlockFormat.Q8_0), null);
        var inPlace = Tensor.Zeros(2, k);
        Assert.Throws<ArgumentException>(() => ops.Linear(inPlace, square, inPlace));
        // Zero rows: nothing to do, no error.
        ops.Linear(Tensor.Zeros(0, k), weight, Tensor.Zeros(0, n));
    }

    [Theory]
    [InlineData(LinearPrecision.Q8_0, 0.01)]
    [InlineData(LinearPrecision.Q4_0, 0.15)]
    public void QuantizedPrecisionStaysCloseToF32(LinearPrecision precision, double tolerance)
    {
        const int m = 4, k = 768, n = 300;
        float[] x = Reference.Random(m * k, 61), w = Reference.Random(n * k, 62), b = Reference.Random(n, 63);
        using var ops = new CpuOps(2) { LinearPrecision = precision };
        var weight = ops.PrepareLinear(Tensor.FromArray(w, n, k), Tensor.FromArray(b, n));
        Assert.IsType<BlockLinearWeight>(weight);
        Assert.Equal(precision == LinearPrecision.Q8_0 ? BlockFormat.Q8_0 : BlockFormat.Q4_0, ((BlockLinearWeight)weight).Format);
        var y = Tensor.Zeros(m, n);
        ops.Linear(Tensor.FromArray(x, m, k), weight, y);
        var (expected, _) = Reference.Linear(x, w, b, m, k, n, Activation.None);
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++) { diff += Math.Pow(y.AsSpan()[i] - expected[i], 2); norm += expected[i] * expected[i]; }
        double relative = Math.Sqrt(diff / norm);
        output.WriteLine($"{precision}: relative error {relative:E2}");
        Assert.True(relative < tolerance, $"{precision}: relative error {relative}");
        // Rows that do not cut into blocks of 32 stay f32.
        Assert.IsNotType<BlockLinearWeight>(ops.PrepareLinear(Tensor.Zeros(8, 33), null));
    }
    [Theory]
    [InlineData(BlockFormat.Q8_0, 1)]
    [InlineData(BlockFormat.Q4_0, 8)]
    public void SteadyStateCallsAllocateNothing(BlockFormat format, int m)
    {
        const int k = 256, n = 100;
        using var ops = new CpuOps(2);
        var weight = ops.PrepareLinear(QuantizedMatrix.Quantize(Tensor.FromArray(Reference.Random(n * k, 71), n, k), format), null);
        var x = Tensor.FromArray(Reference.Random(m * k, 72), m, k);
        var y = Tensor.Zeros(m, n);
        for (int i = 0; i < 5; i++) ops.Linear(x, weight, y);
        // The runtime itself may allocate once in a while on this thread (tiering a method up, a pool's first bucket):
        // steady state means some window of 20 calls allocates nothing at all.
        long fewest = long.MaxValue;
        for (int window = 0; window < 3 && fewest != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) ops.Linear(x, weight, y);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
    }
}
