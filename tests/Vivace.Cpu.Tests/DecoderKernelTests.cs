using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

/// <summary>
/// The decoder's fused row ops (residual add + RMSNorm or LayerNorm, act(gate)·up) on every kernel path this machine has and 1..3
/// threads, against a double reference and against the scalar path; widths with every kind of tail, rows enough to
/// spread over the pool.
/// </summary>
public class DecoderKernelTests
{
    public static TheoryData<KernelPath, int> PathsAndThreads()
    {
        var data = new TheoryData<KernelPath, int>();
        foreach (KernelPath p in KernelPaths.Supported)
            for (int threads = 1; threads <= 3; threads++) data.Add(p, threads);
        return data;
    }

    private static readonly (int Rows, int Features)[] Shapes =
        [(1, 0), (1, 1), (3, 7), (2, 15), (5, 31), (4, 64), (3, 65), (2, 257), (40, 1001), (70, 512)];

    [Theory]
    [MemberData(nameof(PathsAndThreads))]
    public void RmsNormMatchesReferenceAndScalarPath(KernelPath path, int threads)
    {
        using var ops = new CpuOps(threads, path);
        using var scalar = new CpuOps(1, KernelPath.Scalar);
        foreach ((int rows, int n) in Shapes)
            foreach (bool withResidual in new[] { false, true })
            {
                float[] x = Reference.Random(rows * n, rows + n, 3f), res = Reference.Random(rows * n, rows * n + 1, 2f);
                float[] w = Reference.Random(n, n + 7, 1.5f);
                double[] expected = Reference.RmsNorm(x, withResidual ? res : null, w, 1e-6, rows, n);
                float[] got = Run(ops, x, withResidual ? res : null, w, rows, n), want = Run(scalar, x, withResidual ? res : null, w, rows, n);
                string what = $"{path} threads={threads} rows={rows} n={n} residual={withResidual}";
                Reference.AssertClose(expected, got, 1e-6, 2e-6, what);
                // Only the order of the squares' sum differs from the scalar path: the scale agrees to a few ulps.
                for (int i = 0; i < got.Length; i++)
                    Assert.True(Math.Abs(got[i] - want[i]) <= 1e-6f * Math.Abs(want[i]) + 1e-30f, $"{what}: [{i}] {got[i]:R} vs scalar {want[i]:R}");
            }
    }

    private static float[] Run(CpuOps ops, float[] x, float[]? res, float[] w, int rows, int n)
    {
        var output = Tensor.Zeros(rows, n);
        output.AsSpan().Fill(float.NaN);
        ops.RmsNorm(Tensor.FromArray((float[])x.Clone(), rows, n), res is null ? null : Tensor.FromArray((float[])res.Clone(), rows, n),
            Tensor.FromArray(w, n), 1e-6f, output);
        return output.AsSpan().ToArray();
    }

    [Theory]
    [MemberData(nameof(PathsAndThreads))]
    public void RmsNormWritesTheResidualSumWhereAsked(KernelPath path, int threads)
    {
        using var ops = new CpuOps(threads, path);
        foreach ((int rows, int n) in Shapes)
        {
            float[] x = Reference.Random(rows * n, n, 3f), res = Reference.Random(rows * n, n + 1, 2f), w = Reference.Random(n, 3);
            float[] sums = x.Select((v, i) => v + res[i]).ToArray();
            double[] expected = Reference.RmsNorm(x, res, w, 1e-5, rows, n);
            string what = $"{path} threads={threads} rows={rows} n={n}";

            // hidden += residual and normed = RMSNorm(hidden) in one call (the decoder's residual stream).
            Tensor hidden = Tensor.FromArray((float[])x.Clone(), rows, n), normed = Tensor.Zeros(rows, n);
            ops.RmsNorm(hidden, Tensor.FromArray((float[])res.Clone(), rows, n), Tensor.FromArray(w, n), 1e-5f, normed, sum: hidden);
            Assert.Equal(sums, hidden.AsSpan().ToArray());
            Reference.AssertClose(expected, normed.AsSpan(), 1e-6, 2e-6, what + " sum=input");

            // The sum into the residual, the output over the input.
            Tensor input = Tensor.FromArray((float[])x.Clone(), rows, n), residual = Tensor.FromArray((float[])res.Clone(), rows, n);
            ops.RmsNorm(input, residual, Tensor.FromArray(w, n), 1e-5f, input, sum: residual);
            Assert.Equal(sums, residual.AsSpan().ToArray());
            Reference.AssertClose(expected, input.AsSpan(), 1e-6, 2e-6, what + " sum=residual output=input");

            // No residual, in place: the sum is the input itself.
            Tensor alone = Tensor.FromArray((float[])x.Clone(), rows, n);
            ops.RmsNorm(alone, null, Tensor.FromArray(w, n), 1e-5f, alone);
            Reference.AssertClose(Reference.RmsNorm(x, null, w, 1e-5, rows, n), alone.AsSpan(), 1e-6, 2e-6, what + " in place");
        }
    }

    [Theory]
    [MemberData(nameof(KernelPathTests.Paths), MemberType = typeof(KernelPathTests))]
    public void RmsNormMatchesReferenceForEveryWidthUpTo300(KernelPath path)
    {
        using var ops = new CpuOps(1, path);
        for (int n = 1; n <= 300; n++)
        {
            float[] x = Reference.Random(n, n, 4f), res = Reference.Random(n, n + 1000), w = Reference.Random(n, n + 2000);
            // Guard rows either side: nothing outside the row is written.
            Tensor guarded = Tensor.Zeros(3, n);
            guarded.AsSpan().Fill(12345f);
            Tensor row = guarded.Slice(1, 1);
            ops.RmsNorm(Tensor.FromArray(x, 1, n), Tensor.FromArray(res, 1, n), Tensor.FromArray(w, n), 1e-6f, row);
            Reference.AssertClose(Reference.RmsNorm(x, res, w, 1e-6, 1, n), row.AsSpan(), 1e-6, 2e-6, $"{path} n={n}");
            Assert.All(guarded.AsSpan()[..n].ToArray(), v => Assert.Equal(12345f, v));
            Assert.All(guarded.AsSpan()[(2 * n)..].ToArray(), v => Assert.Equal(12345f, v));
        }
    }

    [Fact]
    public void TheScalarPathIsTheModelsFormerRmsNormBitForBit()
    {
        using var ops = new CpuOps(1, KernelPath.Scalar);
        const int Rows = 3, N = 77;
        float[] x = Reference.Random(Rows * N, 5, 3f), w = Reference.Random(N, 6);
        var expected = new float[Rows * N];
        for (int r = 0; r < Rows; r++)
        {
            float sum = 0;
            for (int j = 0; j < N; j++) sum += x[r * N + j] * x[r * N + j];
            float inv = 1f / MathF.Sqrt(sum / N + 1e-6f);
            for (int j = 0; j < N; j++) expected[r * N + j] = w[j] * (x[r * N + j] * inv);
        }
        Tensor y = Tensor.Zeros(Rows, N);
        ops.RmsNorm(Tensor.FromArray(x, Rows, N), null, Tensor.FromArray(w, N), 1e-6f, y);
        Assert.Equal(expected, y.AsSpan().ToArray());
    }

    [Theory]
    [MemberData(nameof(PathsAndThreads))]
    public void LayerNormWritesTheResidualSumWhereAsked(KernelPath path, int threads)
    {
        using var ops = new CpuOps(threads, path);
        foreach ((int rows, int n) in Shapes)
        {
            float[] x = Reference.Random(rows * n, n, 3f), res = Reference.Random(rows * n, n + 1, 2f);
            float[] g = Reference.Random(n, 3), b = Reference.Random(n, 4);
            float[] sums = x.Select((v, i) => v + res[i]).ToArray();
            string what = $"{path} threads={threads} rows={rows} n={n}";
            // The unfused form (Add, then LayerNorm of the sum) is what GPT-2 ran before: the fused one must equal it bit for bit.
            Tensor added = Tensor.FromArray((float[])x.Clone(), rows, n), unfused = Tensor.Zeros(rows, n);
            ops.Add(added, Tensor.FromArray((float[])res.Clone(), rows, n));
            ops.LayerNorm(added, null, Tensor.FromArray(g, n), Tensor.FromArray(b, n), 1e-5f, unfused);
            Reference.AssertClose(Reference.LayerNorm(x, res, g, b, 1e-5, rows, n), unfused.AsSpan(), 2e-5, 2e-5, what);

            // hidden += residual and normed = LayerNorm(hidden) in one call (a pre-LN decoder's residual stream).
            Tensor hidden = Tensor.FromArray((float[])x.Clone(), rows, n), normed = Tensor.Zeros(rows, n);
            ops.LayerNorm(hidden, Tensor.FromArray((float[])res.Clone(), rows, n), Tensor.FromArray(g, n), Tensor.FromArray(b, n), 1e-5f,
                normed, sum: hidden);
            Assert.Equal(sums, hidden.AsSpan().ToArray());
            Assert.Equal(unfused.AsSpan().ToArray(), normed.AsSpan().ToArray());

            // The sum into the residual, the output over the input.
            Tensor input = Tensor.FromArray((float[])x.Clone(), rows, n), residual = Tensor.FromArray((float[])res.Clone(), rows, n);
            ops.LayerNorm(input, residual, Tensor.FromArray(g, n), Tensor.FromArray(b, n), 1e-5f, input, sum: residual);
            Assert.Equal(sums, residual.AsSpan().ToArray());
            Assert.Equal(unfused.AsSpan().ToArray(), input.AsSpan().ToArray());
        }
    }

    [Fact]
    public void LayerNormRejectsASumOverlappingItsOutput()
    {
        using var ops = new CpuOps(1);
        Tensor x = Tensor.Zeros(2, 8), r = Tensor.Zeros(2, 8), g = Tensor.Zeros(8);
        Assert.Throws<ArgumentException>(() => ops.LayerNorm(x, r, g, g, 1e-5f, x, sum: x));
        Assert.Throws<ArgumentException>(() => ops.LayerNorm(x, r, g, g, 1e-5f, Tensor.Zeros(2, 8), sum: Tensor.Zeros(2, 7)));
    }

    [Fact]
    public void RmsNormRejectsASumOverlappingItsOutput()
    {
        using var ops = new CpuOps(1);
        Tensor x = Tensor.Zeros(2, 8), r = Tensor.Zeros(2, 8), w = Tensor.Zeros(8);
        Assert.Throws<ArgumentException>(() => ops.RmsNorm(x, r, w, 1e-6f, x, sum: x));
        Assert.Throws<ArgumentException>(() => ops.RmsNorm(x, r, Tensor.Zeros(7), 1e-6f, Tensor.Zeros(2, 8)));
        Assert.Throws<ArgumentException>(() => ops.RmsNorm(x, Tensor.Zeros(2, 7), w, 1e-6f, Tensor.Zeros(2, 8)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ops.RmsNorm(x, null, w, -1f, Tensor.Zeros(2, 8)));
    }

    [Theory]
    [MemberData(nameof(PathsAndThreads))]
    public void GatedActivationMatchesReferenceAndScalarPath(KernelPath path, int threads)
    {
        using var ops = new CpuOps(threads, path);
        using var scalar = new CpuOps(1, KernelPath.Scalar);
        foreach (Activation act in Enum.GetValues<Activation>())
            foreach ((int rows, int inner) in Shapes)
            {
                float[] gu = Reference.Random(rows * 2 * inner, rows * inner + 3, 6f);
                var expected = new double[rows * inner];
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < inner; i++)
                        expected[r * inner + i] = Reference.Activate(gu[r * 2 * inner + i], act) * gu[r * 2 * inner + inner + i];
                float[] got = Gate(ops, gu, rows, inner, act), want = Gate(scalar, gu, rows, inner, act);
                string what = $"{path} threads={threads} {act} rows={rows} inner={inner}";
                Reference.AssertClose(expected, got, 6e-6, 2e-6, what);
                // The vector forms are the scalar formulas lane by lane, fused multiply-adds included — where the CPU has
                // FMA: without it (CI's AVX2-off pass) 128-bit lanes multiply then add while the scalar twin's
                // MathF.FusedMultiplyAdd still rounds once, so only the reference bound above applies there.
                if (VectorFusedMultiplyAdd)
                    Reference.AssertClose(want.Select(v => (double)v).ToArray(), got, 1e-7, 1e-6, what + " vs scalar");
            }
    }

    private static bool VectorFusedMultiplyAdd =>
        System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported;

    private static float[] Gate(CpuOps ops, float[] gu, int rows, int inner, Activation act)
    {
        Tensor output = Tensor.Zeros(rows, inner);
        output.AsSpan().Fill(float.NaN);
        ops.GatedActivation(Tensor.FromArray((float[])gu.Clone(), rows, 2 * inner), output, act);
        return output.AsSpan().ToArray();
    }

    [Theory]
    [MemberData(nameof(KernelPathTests.Paths), MemberType = typeof(KernelPathTests))]
    public void SiluGateMatchesTheModelsFormerFormulaForEveryWidthUpTo300(KernelPath path)
    {
        using var ops = new CpuOps(1, path);
        for (int inner = 0; inner <= 300; inner++)
        {
            float[] gu = Reference.Random(2 * inner, inner, 8f);
            float[] got = Gate(ops, gu, 1, inner, Activation.Silu);
            for (int i = 0; i < inner; i++)
            {
                float g = gu[i], former = g / (1f + MathF.Exp(-g)) * gu[inner + i];
                Assert.True(Math.Abs(got[i] - former) <= 2e-6f * Math.Abs(former) + 1e-7f, $"{path} inner={inner} [{i}] {got[i]:R} vs {former:R}");
            }
        }
    }

    [Fact]
    public void GatedActivationRejectsMismatchedOrOverlappingTensors()
    {
        using var ops = new CpuOps(1);
        Tensor gu = Tensor.Zeros(2, 16);
        Assert.Throws<ArgumentException>(() => ops.GatedActivation(gu, Tensor.Zeros(2, 7), Activation.Silu));
        Assert.Throws<ArgumentException>(() => ops.GatedActivation(gu, gu.Reshape(4, 8), Activation.Silu));
        Assert.Throws<ArgumentOutOfRangeException>(() => ops.GatedActivation(gu, Tensor.Zeros(2, 8), (Activation)99));
    }
}
