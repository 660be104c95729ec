using System.Diagnostics;
using Vivace.Tensors;
using Xunit.Abstractions;

namespace Vivace.Cpu.Tests;

/// <summary>A by-hand throughput check (no timed assertions): remove Skip locally and run with -c Release.</summary>
public class GemmTiming(ITestOutputHelper output)
{
    [Theory(Skip = "manual timing: remove Skip to print GEMM GFLOP/s")]
    [InlineData(1024, 384, 1536)]
    [InlineData(1024, 1536, 384)]
    [InlineData(128, 384, 384)]
    [InlineData(16, 384, 1536)]
    public void PrintGemmThroughput(int m, int k, int n)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            using var ops = new CpuOps(threads);
            var x = Tensor.FromArray(Reference.Random(m * k, 1), m, k);
            var w = ops.PrepareLinear(Tensor.FromArray(Reference.Random(n * k, 2), n, k), Tensor.FromArray(Reference.Random(n, 3), n));
            var y = Tensor.Zeros(m, n);
            double flops = 2.0 * m * n * k;
            int reps = Math.Max(3, (int)(2e9 / flops));
            for (int i = 0; i < reps; i++) ops.Linear(x, w, y);
            double best = double.MaxValue;
            for (int trial = 0; trial < 5; trial++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < reps; i++) ops.Linear(x, w, y);
                best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
            }
            output.WriteLine($"{ops.Path} threads={threads} M={m} K={k} N={n}: {flops / best / 1e9:F1} GFLOP/s");
        }
    }
}
