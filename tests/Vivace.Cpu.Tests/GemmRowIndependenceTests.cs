using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

/// <summary>
/// A row's result from Linear does not depend on the other rows in the call — bit for bit, whatever the row count,
/// the row's position among them, or the thread count — because each output element accumulates over k in the same
/// order in every tile shape. Batched generation relies on it: a sequence's greedy tokens must not change with the
/// sequences decoded beside it.
/// </summary>
public class GemmRowIndependenceTests
{
    [Theory]
    [InlineData(768, 2304)]
    [InlineData(65, 33)]
    [InlineData(2048, 768)]
    public void EachRowEqualsTheRowAloneBitForBit(int k, int n)
    {
        const int Rows = 37;
        float[] x = Reference.Random(Rows * k, 11), w = Reference.Random(n * k, 12), b = Reference.Random(n, 13);
        foreach (var ops in new[] { new CpuOps(1), new CpuOps(2), new CpuOps(3) })
        {
            var weight = ops.PrepareLinear(Tensor.FromArray(w, n, k), Tensor.FromArray(b, n));
            var alone = new float[Rows * n];
            for (int r = 0; r < Rows; r++)
            {
                var y = Tensor.Zeros(1, n);
                ops.Linear(Tensor.FromArray(x.AsSpan(r * k, k).ToArray(), 1, k), weight, y);
                y.AsSpan().CopyTo(alone.AsSpan(r * n, n));
            }
            foreach (int m in new[] { 2, 5, 8, 16, Rows })
            {
                var y = Tensor.Zeros(m, n);
                // Rows Rows−m .. Rows−1, so each row sits at a different position than when alone.
                ops.Linear(Tensor.FromArray(x.AsSpan((Rows - m) * k, m * k).ToArray(), m, k), weight, y);
                for (int r = 0; r < m; r++)
                    Assert.True(y.AsSpan().Slice(r * n, n).SequenceEqual(alone.AsSpan((Rows - m + r) * n, n)),
                        $"threads {ops.ThreadCount}, {m} rows: row {r} differs from the same row computed alone");
            }
        }
    }
}
