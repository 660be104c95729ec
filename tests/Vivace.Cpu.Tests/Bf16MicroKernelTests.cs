using Vivace.Cpu.Jit;
using Vivace.Tensors;

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
                Assert.True(BitConverter.SingleToInt32Bits(expected[r * ldc + c]) == BitConverter.SingleToInt32Bits(got[r * ldc + c]),
                    $"k={k} c[{r},{c}] = {got[r * ldc + c]:R}, definition {expected[r * ldc + c]:R}");
            Assert.All(got.AsSpan(r * ldc + 32, ldc - 32).ToArray(), v => Assert.Equal(12345f, v));
        }
    }
}
