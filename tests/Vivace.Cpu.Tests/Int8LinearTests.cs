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
        float[] x = Reference.Random(m * k, 21), w = Reference.Random(n * k, 22), b = Reference.Random(n, 23);
        var (expected, _) = Reference.Linear(x, w, b, m, k, n, Activation.Gelu);
        foreach (bool vnni in new[] { false, true })
        {
            if (vnni && !Jit.VnniMicroKernel.IsSupported) continue;
            using var ops = new CpuOps(2) { Int8UsesVnni = vnni };
            var y = Tensor.Zeros(m, n);
            y.AsSpan().Fill(float.NaN);
            ops.Linear(Tensor.FromArray(x, m, k), ops.PrepareLinearInt8(Tensor.FromArray(w, n, k), Tensor.FromArray(b, n)), y, Activation.Gelu);
            ReadOnlySpan<float> got = y.AsSpan();
            for (int r = 0; r < m; r++)
            {
                double dot = 0, ng = 0, ne = 0, max = 0;
                for (int c = 0; c < n; c++)
                {
                    double g = got[r * n + c], e = expected[r * n + c];
                    Assert.False(double.IsNaN(g), $"vnni={vnni}: y[{r},{c}] was not written");
                    dot += g * e; ng += g * g; ne += e * e; max = Math.Max(max, Math.Abs(e));
                }
                for (int c = 0; c < n; c++)
                    Assert.True(Math.Abs(got[r * n + c] - expected[r * n + c]) <= 0.03 * max + 1e-4,
                        $"vnni={vnni} m={m} k={k} n={n}: y[{r},{c}] = {got[r * n + c]}, f32 gives {expected[r * n + c]}");
                if (k > 4) Assert.True(dot / Math.Sqrt(ng * ne) >= 0.999, $"vnni={vnni}: row {r} cosine {dot / Math.Sqrt(ng * ne)}");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void EmittedKernelEqualsTheManagedIntegerPath(int m, int k, int n)
    {
        Skip.IfNot(Jit.VnniMicroKernel.IsSupported, "this CPU has no AVX512-VNNI (or VIVACE_NO_JIT is set)");
        float[] x = Reference.Random(m * k, 31), w = Reference.Random(n * k, 32);
        float[]? previous = null;
        foreach (var (threads, vnni) in new[] { (1, false), (1, true), (2, true), (3, true) })
        {
            using var ops = new CpuOps(threads) { Int8UsesVnni = vnni };
            var y = Tensor.Zeros(m, n);
            ops.Linear(Tensor.FromArray(x, m, k), ops.PrepareLinearInt8(Tensor.FromArray(w, n, k), null), y);
            float[] now = y.AsSpan().ToArray();
            if (previous != null) Assert.Equal(previous, now);
            previous = now;
        }
    }

    [Fact]
    public void Int8PrecisionQuantizesAllButContractingLayers()
    {
        // With VNNI: per-channel int8 layers. Without it (forced here, as on AVX2-only CPUs): Q8_0 blocks, which
        // vpmaddubsw multiplies without int16 overflow; the managed per-channel path would be far slower than f32.
        // Contracting layers stay f32 either way, whether or not the bf16 dot kernel is there.
        foreach (bool vnni in new[] { true, false })
            foreach (bool bf16 in new[] { true, false })
            {
                using var ops = new CpuOps(1) { LinearPrecision = LinearPrecision.Int8, Int8UsesVnni = vnni, Bf16UsesDotProducts = bf16 };
                Type quantized = vnni ? typeof(Int8.Int8LinearWeight) : typeof(Quantized.BlockLinearWeight);
                Assert.IsType(quantized, ops.PrepareLinear(Tensor.Zeros(1536, 384), null)); // up projection
                Assert.IsType(quantized, ops.PrepareLinear(Tensor.Zeros(384, 384), null));  // square
                Assert.IsType<PackedLinearWeight>(ops.PrepareLinear(Tensor.Zeros(384, 1536), null)); // down projection
                Assert.IsType<Int8.Int8LinearWeight>(ops.PrepareLinear(Tensor.Zeros(100, 30), null)); // rows of no whole blocks
            }
        using var f32 = new CpuOps(1);
        Assert.IsNotType<Int8.Int8LinearWeight>(f32.PrepareLinear(Tensor.Zeros(1536, 384), null));
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
