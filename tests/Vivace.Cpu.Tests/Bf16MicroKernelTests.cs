using Vivace.Cpu.Jit;
using Vivace.Tensors;
using Vivace.Cpu;

namespace Vivace.Cpu.Tests;

/// <summary>
/// The run-time emitted AVX512-BF16 microkernel against its managed definition, bit for bit (skipped where the CPU lacks
/// AVX512-BF16); its encodings are checked with the other emitted instructions in <see cref="VnniMicroKernelTests"/>.
/// </summary>
public class Bf16MicroKernelTests
{
    [SkippableTheory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(64)]
    [InlineData(384)]
    [InlineData(1538)]
    public unsafe void KernelMatchesItsDefinition(int k)
    {
        Skip.IfNot(Bf16MicroKernel.IsSupported, "this CPU has no AVX512-BF16 (or VIVACE_NO_JIT is set)");
        int lda = k + 6, ldb = k + 2, ldc = 40;
        ushort[] a = Reference.Random(4 * lda, k + 1).Select(NumericConversions.SingleToBFloat16).ToArray();
        ushort[] b = Reference.Random(32 * ldb, k + 2).Select(NumericConversions.SingleToBFloat16).ToArray();
        var panel = new ushort[Math.Max(1, k / 2 * 64)];
        Bf16MicroKernel.Pack(b, ldb, k, panel);
        var expected = new float[4 * ldc];
        var got = new float[4 * ldc];
        Array.Fill(got, 12345f); // every element is overwritten, padding columns are not
        Bf16MicroKernel.Reference(a, lda, b, ldb, expected, ldc, k);
        fixed (ushort* pa = a)
        fixed (ushort* pp = panel)
        fixed (float* pc = got)
            Bf16MicroKernel.Run(pa, lda, pp, pc, ldc, k);
        for (int r = 0; r < 4; r++)
        {
            for (int c = 0; c < 32; c++)
            {
                // The SDM's definition rounds after each of a pair's two products; a CPU that rounds the pair once is
                // still correct, so allow a few f32 ulps of the products' magnitude (a wrong layout is off by far more).
                double magnitude = 0;
                for (int i = 0; i < k; i++) magnitude += Math.Abs(F(a[r * lda + i]) * F(b[c * ldb + i]));
                Assert.True(Math.Abs(got[r * ldc + c] - expected[r * ldc + c]) <= 4e-7 * magnitude,
                    $"k={k} c[{r},{c}] = {got[r * ldc + c]:R}, definition {expected[r * ldc + c]:R}");
            }
            Assert.All(got.AsSpan(r * ldc + 32, ldc - 32).ToArray(), v => Assert.Equal(12345f, v));
        }
    }

    private static double F(ushort v) => BitConverter.Int32BitsToSingle(v << 16);

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(64)]
    [InlineData(1538)]
    public unsafe void ManagedKernelOnThePackedPanelIsTheDefinition(int k)
    {
        int lda = k + 6, ldb = k + 2, ldc = 40;
        ushort[] a = Reference.Random(4 * lda, k + 3).Select(NumericConversions.SingleToBFloat16).ToArray();
        ushort[] b = Reference.Random(32 * ldb, k + 4).Select(NumericConversions.SingleToBFloat16).ToArray();
        var panel = new ushort[Math.Max(1, k / 2 * 64)];
        Bf16MicroKernel.Pack(b, ldb, k, panel);
        var expected = new float[4 * ldc];
        var got = new float[4 * ldc];
        Bf16MicroKernel.Reference(a, lda, b, ldb, expected, ldc, k);
        fixed (ushort* pa = a)
        fixed (ushort* pp = panel)
        fixed (float* pc = got)
            Bf16MicroKernel.RunManaged(pa, lda, pp, pc, ldc, k);
        Assert.Equal(expected, got);
    }
}

/// <summary>
/// bf16 linear layers on the dot-product path (<see cref="CpuOps.Bf16UsesDotProducts"/>): against a double-precision
/// product of the bf16-rounded activations and weights, for odd shapes (K odd, N and M tails), and the same bits for
/// every thread count.
/// </summary>
public class Bf16DotLinearTests
{
    /// <summary>On CPUs without AVX512-BF16 the GEMM runs the kernel's managed equivalent, so its plumbing (rounding,
    /// padding, tiles, bias, tails) is checked everywhere.</summary>
    [Fact]
    public void MatchesTheProductOfRoundedValues()
    {
        static double R(float v) => BitConverter.Int32BitsToSingle(NumericConversions.SingleToBFloat16(v) << 16);
        foreach ((int m, int k, int n) in new[] { (1, 768, 100), (5, 31, 33), (17, 1101, 383), (64, 96, 32), (3, 1, 1) })
        {
            float[] x = Reference.Random(m * k, m + k), w = Reference.Random(n * k, n), bias = Reference.Random(n, 5);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var ops = new CpuOps(threads) { LinearPrecision = LinearPrecision.BF16, Bf16UsesDotProducts = true };
                ILinearWeight weight = ops.PrepareLinear(Tensor.FromArray(w, n, k), Tensor.FromArray(bias, n));
                Assert.IsType<Bf16.Bf16DotLinearWeight>(weight);
                var y = Tensor.Zeros(m, n);
                ops.Linear(Tensor.FromArray(x, m, k), weight, y);
                float[] got = y.AsSpan().ToArray();
                if (first == null)
                {
                    first = got;
                    for (int r = 0; r < m; r++)
                        for (int c = 0; c < n; c++)
                        {
                            double exact = bias[c], magnitude = Math.Abs(bias[c]);
                            for (int i = 0; i < k; i++)
                            {
                                double p = R(x[r * k + i]) * R(w[c * k + i]);
                                exact += p;
                                magnitude += Math.Abs(p);
                            }
                            Assert.True(Math.Abs(got[r * n + c] - exact) <= 1e-6 * magnitude + 1e-6,
                                $"m={m} k={k} n={n} y[{r},{c}] = {got[r * n + c]:R}, exact {exact:R}");
                        }
                }
                else Assert.Equal(first, got);
            }
        }
    }
}
