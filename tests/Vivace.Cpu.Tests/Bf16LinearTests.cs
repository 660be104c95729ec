using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

/// <summary>
/// bf16 linear layers: the widening kernel against its scalar definition on every path, and a bf16 layer against the f32
/// layer holding the same (bf16-representable) values — bit for bit, since widening is exact and the tiles then do the
/// same arithmetic.
/// </summary>
public unsafe class Bf16LinearTests
{
    public static TheoryData<KernelPath> Paths()
    {
        var data = new TheoryData<KernelPath>();
        foreach (KernelPath p in KernelPaths.Supported) data.Add(p);
        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void WideningMatchesTheScalarDefinitionForEveryLength(KernelPath path)
    {
        var random = new Random(3);
        for (int length = 0; length <= 300; length++)
        {
            var source = new ushort[length];
            for (int i = 0; i < length; i++) source[i] = (ushort)random.Next(0x10000);
            var target = new float[length + 1];
            target[length] = 12345f; // a guard past the end
            fixed (ushort* s = source)
            fixed (float* t = target)
                Bf16Widening.Widen(path, s, t, length);
            for (int i = 0; i < length; i++)
                Assert.Equal(BitConverter.Int32BitsToSingle(source[i] << 16).ToString("R"), target[i].ToString("R"));
            Assert.Equal(12345f, target[length]);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Bf16WeightsComputeExactlyWhatTheirF32ValuesCompute(KernelPath path)
    {
        foreach ((int m, int k, int n) in new[] { (1, 768, 100), (1, 1100, 383), (1, 7, 31), (2, 31, 33), (3, 600, 65), (17, 1100, 383), (64, 96, 32) })
            foreach (int threads in new[] { 1, 2 })
            {
                using var ops = new CpuOps(threads, path);
                float[] x = Reference.Random(m * k, m + k), bias = Reference.Random(n, 5);
                ushort[] raw = Reference.Random(n * k, n).Select(NumericConversions.SingleToBFloat16).ToArray();
                float[] widened = raw.Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray();
                var input = Tensor.FromArray(x, m, k);
                var expected = Tensor.Zeros(m, n);
                ops.Linear(input, ops.PrepareLinear(Tensor.FromArray(widened, n, k), Tensor.FromArray(bias, n)), expected, Activation.Gelu);
                var actual = Tensor.Zeros(m, n);
                ops.Linear(input, ops.PrepareLinear(Tensor.FromArray(raw, n, k), Tensor.FromArray(bias, n)), actual, Activation.Gelu);
                Assert.True(expected.AsSpan().SequenceEqual(actual.AsSpan()), $"{path} threads={threads} m={m} k={k} n={n}");
            }
    }

    [Fact]
    public void Bf16PrecisionRoundsF32WeightsToNearestEven()
    {
        float[] w = Reference.Random(64 * 96, 9), x = Reference.Random(5 * 96, 10);
        using var f32 = new CpuOps(1);
        // The widening path (on AVX512-BF16 CPUs the default is the dot-product kernel, which rounds activations too).
        using var bf16 = new CpuOps(1) { LinearPrecision = LinearPrecision.BF16, Bf16UsesDotProducts = false };
        float[] rounded = w.Select(v => BitConverter.Int32BitsToSingle(NumericConversions.SingleToBFloat16(v) << 16)).ToArray();
        var expected = Tensor.Zeros(5, 64);
        f32.Linear(Tensor.FromArray(x, 5, 96), f32.PrepareLinear(Tensor.FromArray(rounded, 64, 96), null), expected);
        var actual = Tensor.Zeros(5, 64);
        bf16.Linear(Tensor.FromArray(x, 5, 96), bf16.PrepareLinear(Tensor.FromArray(w, 64, 96), null), actual);
        Assert.True(expected.AsSpan().SequenceEqual(actual.AsSpan()));
        Assert.False(rounded.SequenceEqual(w)); // the rounding did something
    }
}
