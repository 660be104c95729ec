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
    public static TheoryData<int, int> RowsAndK => new()
    {
        { 4, 0 }, { 4, 2 }, { 1, 64 }, { 4, 384 }, { 5, 1538 }, { 12, 384 }, { 12, 1538 }, { 7, 6 },
    };

    [SkippableTheory]
    [MemberData(nameof(RowsAndK))]
    public unsafe void KernelMatchesItsDefinition(int rows, int k)
    {
        Skip.IfNot(Bf16MicroKernel.IsSupported, "this CPU has no AVX512-BF16 (or VIVACE_NO_JIT is set)");
        var (a, lda, b, ldb, expected, got, ldc) = Run(rows, k, emitted: true);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < 32; c++)
            {
                // The SDM's definition rounds after each of a pair's two products; a CPU that rounds the pair once is
                // still correct, so allow a few f32 ulps of the products' magnitude (a wrong layout is off by far more).
                double magnitude = 0;
                for (int i = 0; i < k; i++) magnitude += Math.Abs(F(a[r * lda + i]) * F(b[c * ldb + i]));
                Assert.True(Math.Abs(got[r * ldc + c] - expected[r * ldc + c]) <= 4e-7 * magnitude,
                    $"rows={rows} k={k} c[{r},{c}] = {got[r * ldc + c]:R}, definition {expected[r * ldc + c]:R}");
            }
            Assert.All(got.AsSpan(r * ldc + 32, ldc - 32).ToArray(), v => Assert.Equal(12345f, v));
        }
    }

    private static double F(ushort v) => BitConverter.Int32BitsToSingle(v << 16);

    [Theory]
    [MemberData(nameof(RowsAndK))]
    public void ManagedKernelOnThePackedBlockIsTheDefinition(int rows, int k)
    {
        var (_, _, _, _, expected, got, _) = Run(rows, k, emitted: false);
        Assert.Equal(expected, got);
    }

    private static unsafe (ushort[] A, int Lda, ushort[] B, int Ldb, float[] Expected, float[] Got, int Ldc) Run(int rows, int k, bool emitted)
    {
        int lda = k + 6, ldb = k + 2, ldc = 40;
        ushort[] a = Reference.Random(rows * lda, k + rows).Select(NumericConversions.SingleToBFloat16).ToArray();
        ushort[] b = Reference.Random(32 * ldb, k + 2).Select(NumericConversions.SingleToBFloat16).ToArray();
        var panel = new ushort[Math.Max(1, k / 2 * 64)];
        Bf16MicroKernel.Pack(b, ldb, k, panel);
        var block = new ushort[Math.Max(1, rows * k)];
        var expected = new float[rows * ldc];
        var got = new float[rows * ldc];
        Array.Fill(got, 12345f); // every element is overwritten, padding columns are not
        Bf16MicroKernel.Reference(rows, a, lda, b, ldb, expected, ldc, k);
        fixed (ushort* pa = a, pb = block, pp = panel)
        fixed (float* pc = got)
        {
            PanelDotEmitter.PackRowBlock((byte*)pa, lda * sizeof(ushort), rows, k / 2, (byte*)pb);
            if (emitted) Bf16MicroKernel.Run(rows, pb, pp, pc, ldc, k);
            else Bf16MicroKernel.RunManaged(rows, pb, pp, pc, ldc, k);
        }
        if (!emitted)
            for (int r = 0; r < rows; r++) Assert.All(got.AsSpan(r * ldc + 32, ldc - 32).ToArray(), v => Assert.Equal(12345f, v));
        for (int r = 0; r < rows; r++) got.AsSpan(r * ldc + 32, ldc - 32).CopyTo(expected.AsSpan(r * ldc + 32));
        return (a, lda, b, ldb, expected, got, ldc);
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
        foreach ((int m, int k, int n) in new[] { (1, 768, 100), (5, 31, 33), (17, 1101, 383), (64, 96, 32), (3, 1, 1), (200, 66, 65) })
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

/// <summary>The vector f32 → bf16 rounding against <see cref="NumericConversions.SingleToBFloat16"/>, bit for bit.</summary>
public class Bf16RoundingTests
{
    [Fact]
    public unsafe void VectorLanesEqualTheReference()
    {
        var values = new List<float>
        {
            0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity,
            float.NegativeInfinity, float.NaN, BitConverter.UInt32BitsToSingle(0x7FC00001), BitConverter.UInt32BitsToSingle(0xFF800001),
            BitConverter.UInt32BitsToSingle(0x3F808000), BitConverter.UInt32BitsToSingle(0x3F818000), // ties: to even, both ways
            BitConverter.UInt32BitsToSingle(0x7F7FFFFF), BitConverter.UInt32BitsToSingle(0x007FFFFF), // rounds up to infinity / the smallest normal
        };
        var random = new Random(4);
        for (int i = 0; i < 4000; i++) values.Add(BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32)));
        foreach (int length in new[] { values.Count, 15, 16, 17, 33 })
        {
            float[] source = values.Take(length).ToArray();
            var got = new ushort[length];
            fixed (float* s = source)
            fixed (ushort* t = got)
                Bf16.Bf16Rounding.Round(s, t, length);
            for (int i = 0; i < length; i++)
                Assert.True(NumericConversions.SingleToBFloat16(source[i]) == got[i], $"0x{BitConverter.SingleToUInt32Bits(source[i]):X8} → 0x{got[i]:X4}");
        }
    }
}
