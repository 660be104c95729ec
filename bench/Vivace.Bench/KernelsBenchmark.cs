using System.Diagnostics;
using Vivace.Cpu;
using Vivace.Tensors;

namespace Vivace.Bench;

/// <summary>
/// Every kernel path this machine supports against the scalar path (linear with each activation, LayerNorm,
/// fused attention over ragged batches with bias), then GEMM GFLOP/s per path and thread count. A self-check for
/// machines CI never runs on (AVX-512 hosts), and the numbers that tell the paths apart.
/// </summary>
public static class KernelsBenchmark
{
    public static int Run(string[] args)
    {
        var rng = new Random(7);
        float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return a; }
        var scalar = new CpuOps(1, KernelPath.Scalar);
        Console.WriteLine($"cores {Environment.ProcessorCount}; supported paths: {string.Join(", ", KernelPaths.Supported)}; best {KernelPaths.Best}");
        int failures = 0;
        void Check(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tol)
        {
            double scale = 0, worst = 0;
            for (int i = 0; i < expected.Length; i++) { scale = Math.Max(scale, Math.Abs(expected[i])); worst = Math.Max(worst, Math.Abs(expected[i] - actual[i])); }
            bool ok = worst <= tol * Math.Max(scale, 1e-6) && !double.IsNaN(worst);
            if (!ok) { failures++; Console.WriteLine($"FAIL {what}: max diff {worst} scale {scale}"); }
        }
        int[][] shapes = [[1, 1, 1], [3, 7, 17], [7, 33, 31], [16, 384, 1152], [17, 385, 129], [128, 384, 1536], [97, 1536, 384], [250, 65, 383]];
        foreach (KernelPath path in KernelPaths.Supported)
        {
            foreach (int threads in new[] { 1, Environment.ProcessorCount })
            {
                var ops = new CpuOps(threads, path);
                foreach (int[] s in shapes)
                {
                    int m = s[0], k = s[1], n = s[2];
                    var w = Tensor.FromArray(R(n * k), n, k); var b = Tensor.FromArray(R(n), n); var x = Tensor.FromArray(R(m * k), m, k);
                    foreach (var act in new[] { Activation.None, Activation.Gelu, Activation.Tanh })
                    {
                        var y0 = Tensor.Zeros(m, n); var y1 = Tensor.Zeros(m, n);
                        scalar.Linear(x, scalar.PrepareLinear(w, b), y0, act);
                        ops.Linear(x, ops.PrepareLinear(w, b), y1, act);
                        Check($"{path} t{threads} linear {m}x{k}x{n} {act}", y0.AsSpan(), y1.AsSpan(), 1e-5);
                    }
                    var g = Tensor.FromArray(R(n), n); var be = Tensor.FromArray(R(n), n); var res = Tensor.FromArray(R(m * n), m, n);
                    var l0 = Tensor.Zeros(m, n); var l1 = Tensor.Zeros(m, n); var inp = Tensor.FromArray(R(m * n), m, n);
                    scalar.LayerNorm(inp, res, g, be, 1e-12f, l0); ops.LayerNorm(inp, res, g, be, 1e-12f, l1);
                    Check($"{path} t{threads} layernorm {m}x{n}", l0.AsSpan(), l1.AsSpan(), 1e-5);
                }
                foreach (int[] lengths in new[] { new[] { 1 }, new[] { 16 }, new[] { 128, 33, 0, 7 }, new[] { 300, 5 } })
                {
                    int heads = 12, d = 32, tokens = lengths.Sum(), h = heads * d;
                    var qkv = Tensor.FromArray(R(tokens * 3 * h), tokens, 3 * h);
                    var bias = lengths.Select(l => Tensor.FromArray(R(heads * l * l), heads, l, l)).ToArray();
                    var o0 = Tensor.Zeros(tokens, h); var o1 = Tensor.Zeros(tokens, h);
                    scalar.FusedAttention(qkv, o0, new RaggedBatch(lengths), heads, 0.17f, bias);
                    ops.FusedAttention(qkv, o1, new RaggedBatch(lengths), heads, 0.17f, bias);
                    Check($"{path} t{threads} attention [{string.Join(",", lengths)}]", o0.AsSpan(), o1.AsSpan(), 1e-5);
                }
            }
        }
        Console.WriteLine(failures == 0 ? "all paths agree with scalar" : $"{failures} FAILURES");
        foreach (KernelPath path in KernelPaths.Supported.Where(p => p != KernelPath.Scalar))
            foreach (int threads in new[] { 1, Environment.ProcessorCount })
            {
                var ops = new CpuOps(threads, path);
                foreach (int[] s in new[] { new[] { 1024, 384, 1536 }, new[] { 16, 384, 1536 }, new[] { 4096, 1024, 4096 } })
                {
                    int m = s[0], k = s[1], n = s[2];
                    var wt = ops.PrepareLinear(Tensor.FromArray(R(n * k), n, k), null); var x = Tensor.FromArray(R(m * k), m, k); var y = Tensor.Zeros(m, n);
                    for (int i = 0; i < 3; i++) ops.Linear(x, wt, y);
                    var times = new List<double>();
                    var total = Stopwatch.StartNew();
                    while (times.Count < 5 || (total.ElapsedMilliseconds < 1500 && times.Count < 500)) { var sw = Stopwatch.StartNew(); ops.Linear(x, wt, y); times.Add(sw.Elapsed.TotalSeconds); }
                    times.Sort();
                    Console.WriteLine($"{path} threads {threads} gemm {m}x{k}x{n}: {2.0 * m * k * n / times[times.Count / 2] / 1e9:F1} GFLOP/s (median)");
                }
            }
        return failures == 0 ? 0 : 1;
    }
}
