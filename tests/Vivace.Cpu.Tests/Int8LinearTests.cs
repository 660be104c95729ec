using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

/// <summary>
/// int8 linear layers: the emitted VNNI kernel gives exactly the managed integer path's results (both threads counts),
/// and both stay within quantization error of the f32 reference (per-row cosine ≥ 0.999) for odd shapes, with bias and
/// activation.
/// </summary>
public class Int8LinearTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 384, 1536 }, { 3, 7, 33 }, { 5, 1, 31 }, { 17, 385, 100 }, { 130, 1536, 384 }, { 8, 768, 2304 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void WithinQuantizationErrorOfF32(int m, int k, int n)
    {
        foreach (int group in new[] { 0, 32, CpuOps.Int8GroupSize }) CheckWithinQuantizationError(m, k, n, group);
    }

    private static void CheckWithinQuantizationError(int m, int k, int n, int group)
    {
        float[] x = Reference.Random(m * k, 21), w = Reference.Random(n * k, 22), b = Reference.Random(n, 23);
        var (expected, _) = Reference.Linear(x, w, b, m, k, n, Activation.Gelu);
        foreach (bool vnni in new[] { false, true })
        {
            if (vnni && !Jit.VnniMicroKernel.IsSupported) continue;
            using var ops = new CpuOps(2) { Int8UsesVnni = vnni };
            var y = Tensor.Zeros(m, n);
            y.AsSpan().Fill(float.NaN);
            ops.Linear(Tensor.FromArray(x, m, k), ops.PrepareLinearInt8(Tensor.FromArray(w, n, k), Tensor.FromArray(b, n), group), y, Activation.Gelu);
            ReadOnlySpan<float> got = y.AsSpan();
            for (int r = 0; r < m; r++)
            {
                double dot = 0, ng = 0, ne = 0, max = 0;
                for (int c = 0; c < n; c++)
                {
                    double g = got[r * n + c], e = expected[r * n + c];
                    Assert.False(double.IsNaN(g), $"vnni={vnni} group={group}: y[{r},{c}] was not written");
                    dot += g * e; ng += g * g; ne += e * e; max = Math.Max(max, Math.Abs(e));
                }
                for (int c = 0; c < n; c++)
                    Assert.True(Math.Abs(got[r * n + c] - expected[r * n + c]) <= 0.03 * max + 1e-4,
                        $"vnni={vnni} group={group} m={m} k={k} n={n}: y[{r},{c}] = {got[r * n + c]}, f32 gives {expected[r * n + c]}");
                if (k > 4) Assert.True(dot / Math.Sqrt(ng * ne) >= 0.999, $"vnni={vnni} group={group}: row {r} cosine {dot / Math.Sqrt(ng * ne)}");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void EmittedKernelEqualsTheManagedIntegerPath(int m, int k, int n)
    {
        Skip.IfNot(Jit.VnniMicroKernel.IsSupported, "this CPU has no AVX512-VNNI (or VIVACE_NO_JIT is set)");
        float[] x = Reference.Random(m * k, 31), w = Reference.Random(n * k, 32);
        foreach (int group in new[] { 0, CpuOps.Int8GroupSize })
        {
            float[]? previous = null;
            foreach (var (threads, vnni) in new[] { (1, false), (1, true), (2, true), (3, true) })
            {
                using var ops = new CpuOps(threads) { Int8UsesVnni = vnni };
                var y = Tensor.Zeros(m, n);
                ops.Linear(Tensor.FromArray(x, m, k), ops.PrepareLinearInt8(Tensor.FromArray(w, n, k), null, group), y);
                float[] now = y.AsSpan().ToArray();
                if (previous != null) Assert.Equal(previous, now);
                previous = now;
            }
        }
    }

    [Fact]
    public void Int8PrecisionQuantizesLayersByCpu()
    {
        // With VNNI: every layer int8, scales per 128 k (a layer no wider takes one per channel). Without it (forced
        // here, as on AVX2-only CPUs): Q8_0 blocks, which vpmaddubsw multiplies without int16 overflow, and contracting
        // layers in f32; the int8 layout's managed path would be far slower than f32.
        using (var vnni = new CpuOps(1) { LinearPrecision = LinearPrecision.Int8, Int8UsesVnni = true })
        {
            Assert.Equal(128, Assert.IsType<Int8.Int8LinearWeight>(vnni.PrepareLinear(Tensor.Zeros(1536, 384), null)).GroupSize); // up
            Assert.Equal(128, Assert.IsType<Int8.Int8LinearWeight>(vnni.PrepareLinear(Tensor.Zeros(384, 1536), null)).GroupSize); // down
            Assert.Equal(0, Assert.IsType<Int8.Int8LinearWeight>(vnni.PrepareLinear(Tensor.Zeros(100, 30), null)).GroupSize);
        }
        using (var managed = new CpuOps(1) { LinearPrecision = LinearPrecision.Int8, Int8UsesVnni = false })
        {
            Assert.IsType<Quantized.BlockLinearWeight>(managed.PrepareLinear(Tensor.Zeros(1536, 384), null)); // up projection
            Assert.IsType<Quantized.BlockLinearWeight>(managed.PrepareLinear(Tensor.Zeros(384, 384), null));  // square
            Assert.IsType<PackedLinearWeight>(managed.PrepareLinear(Tensor.Zeros(384, 1536), null));          // down projection
            Assert.IsType<Int8.Int8LinearWeight>(managed.PrepareLinear(Tensor.Zeros(100, 30), null)); // rows of no whole blocks
        }
        using var f32 = new CpuOps(1);
        Assert.IsNotType<Int8.Int8LinearWeight>(f32.PrepareLinear(Tensor.Zeros(1536, 384), null));
        Assert.Throws<ArgumentOutOfRangeException>(() => f32.PrepareLinearInt8(Tensor.Zeros(8, 64), null, 30));
        Assert.Throws<ArgumentOutOfRangeException>(() => f32.PrepareLinearInt8(Tensor.Zeros(8, 64), null, -4));
    }

    /// <summary>
    /// Weight rows with a few large values and activations with a few large values (as transformer FFNs have): scales
    /// per group of 128 k keep the rest of each row's precision, one scale per channel and row does not — the grouped
    /// product's rms error must be several times smaller. Same numbers on every thread count and with or without VNNI.
    /// </summary>
    [Fact]
    public void GroupScalesCarryOutliers()
    {
        const int m = 24, k = 1536, n = 96;
        var random = new Random(9);
        float[] x = Reference.Random(m * k, 10), w = Reference.Random(n * k, 11), b = Reference.Random(n, 12);
        for (int r = 0; r < m; r++) x[r * k + random.Next(k)] = 40f;
        for (int c = 0; c < n; c++) w[c * k + random.Next(k)] = -30f;
        var (expected, _) = Reference.Linear(x, w, b, m, k, n, Activation.None);
        double Error(int group, int threads, bool vnni, out float[] y)
        {
            using var ops = new CpuOps(threads) { Int8UsesVnni = vnni };
            var output = Tensor.Zeros(m, n);
            ops.Linear(Tensor.FromArray(x, m, k), ops.PrepareLinearInt8(Tensor.FromArray(w, n, k), Tensor.FromArray(b, n), group), output);
            y = output.AsSpan().ToArray();
            double squares = 0;
            for (int i = 0; i < y.Length; i++) squares += (y[i] - expected[i]) * (y[i] - expected[i]);
            return Math.Sqrt(squares / y.Length);
        }
        double perChannel = Error(0, 1, false, out _), grouped = Error(128, 1, false, out float[] first);
        Assert.True(grouped * 3 < perChannel, $"groups of 128: rms error {grouped}; per channel: {perChannel}");
        foreach (var (threads, vnni) in new[] { (3, false), (1, true), (2, true) })
        {
            if (vnni && !Jit.VnniMicroKernel.IsSupported) continue;
            Error(128, threads, vnni, out float[] again);
            Assert.Equal(first, again);
        }
    }

    [Fact]
    public void ZeroRowsAndZeroWeightsStayZero()
    {
        using var ops = new CpuOps(1);
        var weight = ops.PrepareLinearInt8(Tensor.Zeros(5, 8), null);
        var y = Tensor.Zeros(2, 5);
        ops.Linear(Tensor.FromArray(Reference.Random(16, 1), 2, 8), weight, y);
        Assert.All(y.AsSpan().ToArray(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentException>(() => ops.Linear(Tensor.Zeros(2, 7), weight, y));
    }
}
