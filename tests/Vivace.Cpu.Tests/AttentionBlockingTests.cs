using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

/// <summary>
/// Encoder attention runs its queries in blocks of about 64 rows: the results are the unblocked kernel's bit for bit
/// (same tiles, same products in the same order per row), a long sequence still matches the scalar path, and the
/// scratch a head needs stays O(block × length) instead of the length×length score matrix.
/// </summary>
public unsafe class AttentionBlockingTests
{
    [Theory]
    [MemberData(nameof(KernelPathTests.Paths), MemberType = typeof(KernelPathTests))]
    public void BlockedEqualsUnblockedBitForBit(KernelPath path)
    {
        foreach (int length in new[] { 1, 5, 63, 64, 65, 127, 130, 301 })
            foreach (int headDim in new[] { 7, 32, 40 })
                foreach (bool withBias in new[] { false, true })
                {
                    const int Stride = 3 * 48; // rows of a packed q|k|v, heads at column 0
                    float[] qkv = Reference.Random(length * Stride, length + headDim, 2f);
                    float[]? bias = withBias ? Reference.Random(length * length, length, 3f) : null;
                    float[] blocked = Run(path, qkv, Stride, length, headDim, bias, blockRows: 0);
                    float[] whole = Run(path, qkv, Stride, length, headDim, bias, blockRows: length);
                    float[] small = Run(path, qkv, Stride, length, headDim, bias, blockRows: 1); // one tile per block
                    Assert.True(whole.AsSpan().SequenceEqual(blocked), $"{path} length={length} headDim={headDim} bias={withBias}: blocked differs");
                    Assert.True(whole.AsSpan().SequenceEqual(small), $"{path} length={length} headDim={headDim} bias={withBias}: one-tile blocks differ");
                }
    }

    private static float[] Run(KernelPath path, float[] qkv, int stride, int length, int headDim, float[]? bias, int blockRows)
    {
        var o = new float[length * headDim];
        fixed (float* p = qkv)
        fixed (float* b = bias)
        fixed (float* po = o)
            AttentionKernel.Run(path, p, p + 48, p + 96, stride, po, headDim, length, headDim, 1f / MathF.Sqrt(headDim), b, blockRows);
        return o;
    }

    [Theory]
    [MemberData(nameof(KernelPathTests.Paths), MemberType = typeof(KernelPathTests))]
    public void ALongSequenceMatchesTheScalarPath(KernelPath path)
    {
        const int Length = 2085, Heads = 2, HeadDim = 40, Width = Heads * HeadDim;
        int[] lengths = [Length, 7];
        int tokens = lengths.Sum();
        float[] q = Reference.Random(tokens * Width, 1, 2f), k = Reference.Random(tokens * Width, 2, 2f), v = Reference.Random(tokens * Width, 3);
        float[] Attend(CpuOps ops)
        {
            var o = Tensor.Zeros(tokens, Width);
            o.AsSpan().Fill(float.NaN);
            ops.Attention(Tensor.FromArray(q, tokens, Width), Tensor.FromArray(k, tokens, Width), Tensor.FromArray(v, tokens, Width), o,
                new RaggedBatch(lengths), Heads, 1f / MathF.Sqrt(HeadDim));
            return o.AsSpan().ToArray();
        }
        using var scalar = new CpuOps(1, KernelPath.Scalar);
        double[] expected = Attend(scalar).Select(x => (double)x).ToArray();
        for (int threads = 1; threads <= 3; threads++)
        {
            using var ops = new CpuOps(threads, path);
            Reference.AssertClose(expected, Attend(ops), 1e-5, 1e-4, $"{path} threads={threads}");
        }
    }

    [Fact]
    public void AHeadOf4096TokensNeedsNoScoreMatrix()
    {
        const int Length = 4096, HeadDim = 16;
        float[] qkv = Reference.Random(Length * 3 * HeadDim, 9);
        var o = new float[Length * HeadDim];
        KernelPath path = KernelPaths.Best;
        fixed (float* p = qkv)
        fixed (float* po = o)
            AttentionKernel.Run(path, p, p + HeadDim, p + 2 * HeadDim, 3 * HeadDim, po, HeadDim, Length, HeadDim, 0.25f, null);
        Assert.All(o, x => Assert.True(float.IsFinite(x)));
        // Packed K and V (2·4096·32 floats) and one block of score rows (64·4096), about 0.5M floats; the score matrix
        // alone would be 16.8M. (The scratch is the thread's, so an earlier test on it may have grown it: bound loosely.)
        Assert.True(AttentionKernel.ScratchLength <= Length * Length / 8, $"{AttentionKernel.ScratchLength} floats of scratch");
    }
}
