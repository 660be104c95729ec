using System.Diagnostics;
using Vivace.Tensors;
using Xunit.Abstractions;

namespace Vivace.Cpu.Tests;

/// <summary>
/// A by-hand bandwidth check for decoding (no timed assertions): remove Skip locally and run. Prints effective GB/s
/// (the weight's bytes as stored — ggml block size for Q8_0/Q4_0, 4 bytes a value for f32 — over the time of one M = 1
/// Linear), since at M = 1 every weight byte is read once and the layer is bound by memory bandwidth.
/// </summary>
public class BlockLinearTiming(ITestOutputHelper output)
{
    [Theory(Skip = "manual timing: remove Skip to print decode GB/s")]
    [InlineData(768, 3072)]
    [InlineData(2048, 32000)]
    public void PrintDecodeBandwidth(int k, int n)
    {
        float[] w = Reference.Random(n * k, 2);
        var x = Tensor.FromArray(Reference.Random(k, 1), 1, k);
        var y = Tensor.Zeros(1, n);
        foreach (int threads in new[] { 1, 2 })
        {
            using var ops = new CpuOps(threads);
            foreach (var (label, weight, bytes) in new (string, ILinearWeight, double)[]
            {
                ("f32 ", ops.PrepareLinear(Tensor.FromArray(w, n, k), null), 4.0 * n * k),
                ("Q8_0", ops.PrepareLinear(QuantizedMatrix.Quantize(Tensor.FromArray(w, n, k), BlockFormat.Q8_0), null), 34.0 / 32 * n * k),
                ("Q4_0", ops.PrepareLinear(QuantizedMatrix.Quantize(Tensor.FromArray(w, n, k), BlockFormat.Q4_0), null), 18.0 / 32 * n * k),
            })
            {
                int reps = Math.Max(3, (int)(3e9 / 20 / bytes));
                // Warm up for a second: tiered compilation promotes the kernels to optimized code only after a quiet while.
                for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 1;) ops.Linear(x, weight, y);
                double best = double.MaxValue;
                for (int trial = 0; trial < 7; trial++)
                {
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < reps; i++) ops.Linear(x, weight, y);
                    best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
                }
                output.WriteLine($"{label} {ops.Path} threads={threads} M=1 K={k} N={n}: {best * 1e6,8:F1} µs, {bytes / best / 1e9,6:F1} GB/s");
            }
        }
    }
}
