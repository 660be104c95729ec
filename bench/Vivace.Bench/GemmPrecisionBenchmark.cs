using Vivace.Cpu;
using Vivace.Tensors;

namespace Vivace.Bench;

/// <summary>
/// Linear layers at all-MiniLM-L6-v2's shapes (QKV 384→1152, attention output 384→384, FFN up 384→1536, down 1536→384;
/// 16, 128 and 1024 rows: one query, one 128-token line, a batch of 8) in f32, int8 and bf16, same thread count, the
/// sides interleaved per shape; median GFLOP/s and each precision's speedup over f32. int8 and bf16 take the paths
/// <see cref="CpuOps"/> picks on this CPU (the emitted VNNI / AVX512-BF16 kernels where present) and are named so.
/// Model-free, so it runs where the embed benchmark's model cannot be carried (the lent GPU host's CPU).
/// </summary>
public static class GemmPrecisionBenchmark
{
    public static int Run(string[] args)
    {
        int threads = EmbedBenchmark.IntArg(args, "--threads") ?? 2;
        var rng = new Random(7);
        float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return a; }
        // Where the CPU has the bf16 dot kernel, the bf16 path it does not take by default is timed too (the dot kernel
        // or widening to f32 FMAs): which is faster depends on the CPU's ports (Sapphire Rapids: one for vdpbf16ps, two
        // for FMA), and CpuFeatures.PrefersBf16DotProducts picks by vendor.
        var ops = new List<CpuOps>
        {
            new(threads), new(threads) { LinearPrecision = LinearPrecision.Int8 }, new(threads) { LinearPrecision = LinearPrecision.BF16 },
        };
        if (Vivace.Cpu.Jit.CpuFeatures.Avx512Bf16)
            ops.Add(new CpuOps(threads) { LinearPrecision = LinearPrecision.BF16, Bf16UsesDotProducts = !ops[2].Bf16UsesDotProducts });
        bool widening = ops.Count == 4;
        string other = ops[2].Bf16UsesDotProducts ? "bf16 widening" : "bf16 dot";
        Console.WriteLine($"{Environment.ProcessorCount} cores, {threads} threads, kernels {ops[0].Path}; {Paths(ops[1], ops[2])}");
        Console.WriteLine("| rows × in → out | f32 GFLOP/s | int8 GFLOP/s | bf16 GFLOP/s | int8 / f32 | bf16 / f32 |" + (widening ? $" {other} GFLOP/s | {other} / f32 |" : ""));
        Console.WriteLine("|---|---|---|---|---|---|" + (widening ? "---|---|" : ""));
        var logRatios = new double[3];
        int count = 0;
        foreach (int m in new[] { 16, 128, 1024 })
            foreach ((int k, int n) in new[] { (384, 1152), (384, 384), (384, 1536), (1536, 384) })
            {
                var weight = Tensor.FromArray(R(n * k), n, k);
                var bias = Tensor.FromArray(R(n), n);
                var x = Tensor.FromArray(R(m * k), m, k);
                var y = Tensor.Zeros(m, n);
                ILinearWeight[] prepared = [.. ops.Select(o => o.PrepareLinear(weight, bias))];
                double[] seconds = InterleavedTiming.MedianSeconds(
                    [.. ops.Select((o, p) => (Action)(() => o.Linear(x, prepared[p], y)))], 7, TimeSpan.FromMilliseconds(1200), 400);
                double[] gflops = [.. seconds.Select(t => 2.0 * m * k * n / t / 1e9)];
                Console.WriteLine($"| {m} × {k} → {n} | {gflops[0]:F1} | {gflops[1]:F1} | {gflops[2]:F1} | {gflops[1] / gflops[0]:F2} | {gflops[2] / gflops[0]:F2} |" +
                    (widening ? $" {gflops[3]:F1} | {gflops[3] / gflops[0]:F2} |" : ""));
                logRatios[0] += Math.Log(gflops[1] / gflops[0]);
                logRatios[1] += Math.Log(gflops[2] / gflops[0]);
                if (widening) logRatios[2] += Math.Log(gflops[3] / gflops[0]);
                count++;
            }
        Console.WriteLine($"int8 gemm geomean speedup vs f32: {Math.Exp(logRatios[0] / count):F2}");
        Console.WriteLine($"bf16 gemm geomean speedup vs f32: {Math.Exp(logRatios[1] / count):F2}");
        if (widening) Console.WriteLine($"{other} gemm geomean speedup vs f32: {Math.Exp(logRatios[2] / count):F2}");
        foreach (var o in ops) o.Dispose();
        return 0;
    }

    /// <summary>Which kernels the int8 and bf16 ops take on this CPU.</summary>
    internal static string Paths(CpuOps int8, CpuOps bf16) =>
        $"int8 {(int8.Int8UsesVnni ? $"VNNI (emitted), scales per {CpuOps.Int8GroupSize} k" : "Q8_0 form (no VNNI)")}, " +
        $"bf16 {(bf16.Bf16UsesDotProducts ? "AVX512-BF16 dot (emitted)" : "widening to f32")}";
}
