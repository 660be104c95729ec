using System.Diagnostics;
using System.Text;
using Vivace.Cpu;
using Vivace.Formats;
using Vivace.Models;
using Vivace.Models.Decoders;
using Vivace.Tensors;

namespace Vivace.Bench;

/// <summary>
/// Generation speed on a Llama-shaped decoder of about 100M parameters with random weights made here (hidden 768,
/// 12 layers, 12 heads of 64, 4 kv heads, SwiGLU 2048, vocab 32000, tied head): prefill and decode tokens/s at batch 1
/// and 8 through the KV-cache path generation uses, and each decode step's median time against the machine's floor —
/// the weight bytes a step must read divided by the measured memory copy bandwidth (all threads). Decoding one token
/// reads every weight once, so no implementation on this machine beats that floor; the ratio says how close we are.
/// </summary>
public static class GenerateBenchmark
{
    public static readonly DecoderConfig Shape = new()
    {
        ModelType = "llama",
        VocabSize = 32000,
        HiddenSize = 768,
        IntermediateSize = 2048,
        Layers = 12,
        Heads = 12,
        KeyValueHeads = 4,
        HeadDim = 64,
        RmsNormEps = 1e-5f,
        RopeTheta = 10000f,
        TieWordEmbeddings = true,
        MaxPositions = 2048,
    };

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int threads = EmbedBenchmark.IntArg(args, "--threads") ?? Environment.ProcessorCount;
        string? outFile = EmbedBenchmark.StringArg(args, "--out");
        int promptTokens = quick ? 32 : 128, decodeSteps = quick ? 8 : 32, repeats = quick ? 2 : 5;

        var ops = new CpuOps(threads);
        var clock = Stopwatch.StartNew();
        using var weights = new RandomLlamaWeights(Shape, seed: 1);
        if (args.Contains("--profile")) return Profile(ops, weights);
        var model = new LlamaModel(Shape, new WeightScope(weights) { Ops = ops });
        long parameters = weights.Parameters;
        // A decode step reads every linear weight once: the layers and the (tied) LM head; the embedding lookup reads one row.
        long stepBytes = 4 * (parameters - (long)Shape.VocabSize * Shape.HiddenSize) + 4L * Shape.VocabSize * Shape.HiddenSize;
        double bandwidth = CopyBandwidth(threads, quick), readBandwidth = ReadBandwidth(threads, quick);
        double floorMs = stepBytes / bandwidth * 1e3, readFloorMs = stepBytes / readBandwidth * 1e3;

        var report = new StringBuilder();
        report.AppendLine($"Llama-shaped decoder, {parameters / 1e6:F1}M parameters (random weights, f32), {threads} threads, kernels {ops.Path}, " +
                          $"{EmbedBenchmark.Machine()}, {DateTime.UtcNow:yyyy-MM-dd}{(quick ? ", --quick" : "")}; loaded in {clock.Elapsed.TotalSeconds:F1} s");
        report.AppendLine($"memory copy bandwidth ({threads} threads): {bandwidth / 1e9:F1} GB/s; a decode step reads {stepBytes / 1e6:F0} MB → floor {floorMs:F1} ms per step");
        report.AppendLine($"(a copy moves each byte twice, read and write; read-only bandwidth {readBandwidth / 1e9:F1} GB/s gives a stricter floor of {readFloorMs:F1} ms)");
        report.AppendLine();
        report.AppendLine($"| batch | prefill tok/s ({promptTokens}-token prompts) | decode tok/s | decode step ms (median of {decodeSteps}×{repeats}) | floor ms | floor / step | read floor / step |");
        report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        Console.Write(report.ToString());
        var summary = new List<string>();
        foreach (int batch in args.Contains("--rival-only") ? [] : new[] { 1, 8 })
        {
            var prefillMs = new List<double>();
            var stepMs = new List<double>();
            for (int r = -1; r < repeats; r++) // r = −1 warms up (JIT, first-use paths), unrecorded
            {
                var session = new DecodeSession(model, batch, promptTokens + decodeSteps);
                (long[] ids, long[] mask) = Prompt(batch, promptTokens, r);
                long start = Stopwatch.GetTimestamp();
                Tensor logits = session.Prefill(promptTokens, ids, mask);
                if (r >= 0) prefillMs.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                var next = new long[batch];
                for (int s = 0; s < decodeSteps; s++)
                {
                    for (int b = 0; b < batch; b++)
                        next[b] = BatchGenerator.ArgMax(logits.AsSpan().Slice(b * Shape.VocabSize, Shape.VocabSize));
                    start = Stopwatch.GetTimestamp();
                    logits = session.Step(next);
                    if (r >= 0) stepMs.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
            double prefill = Median(prefillMs), step = Median(stepMs);
            string row = $"| {batch} | {batch * promptTokens / (prefill / 1e3):F0} | {batch / (step / 1e3):F1} | {step:F1} | {floorMs:F1} | {floorMs / step:F2} | {readFloorMs / step:F2} |";
            Console.WriteLine(row);
            report.AppendLine(row);
            summary.Add($"decode batch {batch}: {batch / (step / 1e3):F1} tok/s, step {step:F1} ms vs floor {floorMs:F1} ms ({floorMs / step:F2} of the floor's speed; {readFloorMs / step:F2} of the read-only floor's)");
        }
        if (!args.Contains("--no-rival")) LlamaCppComparison.Run(weights, Shape, threads, quick, report, summary);
        Console.WriteLine();
        report.AppendLine();
        foreach (string line in summary) { Console.WriteLine(line); report.AppendLine(line); }
        if (outFile != null) File.WriteAllText(outFile, report.ToString());
        return 0;
    }

    /// <summary>Where a decode step's time goes, per op (ops outside ITensorOps show up as the gap to the step time).</summary>
    private static int Profile(CpuOps cpu, RandomLlamaWeights weights)
    {
        var ops = new ProfilingOps(cpu);
        var model = new LlamaModel(Shape, new WeightScope(weights) { Ops = ops });
        const int PromptTokens = 128, Steps = 16;
        foreach (int batch in new[] { 1, 8 })
        {
            var session = new DecodeSession(model, batch, PromptTokens + Steps + 1);
            (long[] ids, long[] mask) = Prompt(batch, PromptTokens, 0);
            session.Prefill(PromptTokens, ids, mask);
            session.Step(new long[batch]); // warm
            ops.Reset();
            long start = Stopwatch.GetTimestamp();
            for (int s = 0; s < Steps; s++) session.Step(new long[batch]);
            double stepMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds / Steps;
            Console.WriteLine($"batch {batch}: {stepMs:F2} ms per decode step");
            Console.WriteLine(ops.Report(Steps));
        }
        return 0;
    }

    /// <summary>Random prompt ids (no padding) for a batch.</summary>
    private static (long[] Ids, long[] Mask) Prompt(int batch, int tokens, int seed)
    {
        var random = new Random(seed);
        var ids = new long[batch * tokens];
        for (int i = 0; i < ids.Length; i++) ids[i] = random.Next(Shape.VocabSize);
        var mask = new long[ids.Length];
        Array.Fill(mask, 1L);
        return (ids, mask);
    }

    /// <summary>
    /// Bytes per second one copy pass moves (each byte read once, written once) over 256 MB — far beyond the caches —
    /// split across <paramref name="threads"/> threads; the best of several passes.
    /// </summary>
    private static double CopyBandwidth(int threads, bool quick)
    {
        const int Bytes = 256 << 20;
        var source = new byte[Bytes];
        var target = new byte[Bytes];
        new Random(1).NextBytes(source);
        double best = 0;
        int chunk = Bytes / threads;
        for (int pass = 0; pass < (quick ? 3 : 8); pass++)
        {
            long start = Stopwatch.GetTimestamp();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
                t => source.AsSpan(t * chunk, chunk).CopyTo(target.AsSpan(t * chunk, chunk)));
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            best = Math.Max(best, Bytes / seconds);
        }
        return best;
    }

    /// <summary>Bytes per second summed (read only, 16 floats a vector) over 256 MB split across the threads; best of several passes.</summary>
    private static double ReadBandwidth(int threads, bool quick)
    {
        const int Floats = 64 << 20;
        var data = new float[Floats];
        data.AsSpan().Fill(1f);
        double best = 0;
        int chunk = Floats / threads;
        var sums = new float[threads];
        for (int pass = 0; pass < (quick ? 3 : 8); pass++)
        {
            long start = Stopwatch.GetTimestamp();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                ReadOnlySpan<System.Numerics.Vector<float>> v = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(data.AsSpan(t * chunk, chunk));
                var acc = System.Numerics.Vector<float>.Zero;
                foreach (var x in v) acc += x;
                sums[t] = System.Numerics.Vector.Sum(acc);
            });
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            best = Math.Max(best, Floats * 4.0 / seconds);
        }
        return sums.Sum() > 0 ? best : 0;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}

/// <summary>A Llama checkpoint's weights under their HF names, random (see <see cref="RandomWeights"/>).</summary>
internal sealed class RandomLlamaWeights : RandomWeights
{
    public RandomLlamaWeights(DecoderConfig c, ulong seed) : base(seed, "random Llama weights")
    {
        int h = c.HiddenSize, q = c.Heads * c.HeadDim, kv = c.KeyValueHeads * c.HeadDim, inner = c.IntermediateSize;
        Shapes["model.embed_tokens.weight"] = [c.VocabSize, h];
        Shapes["model.norm.weight"] = [h];
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            Shapes[p + "input_layernorm.weight"] = [h];
            Shapes[p + "post_attention_layernorm.weight"] = [h];
            Shapes[p + "self_attn.q_proj.weight"] = [q, h];
            Shapes[p + "self_attn.k_proj.weight"] = [kv, h];
            Shapes[p + "self_attn.v_proj.weight"] = [kv, h];
            Shapes[p + "self_attn.o_proj.weight"] = [h, q];
            Shapes[p + "mlp.gate_proj.weight"] = [inner, h];
            Shapes[p + "mlp.up_proj.weight"] = [inner, h];
            Shapes[p + "mlp.down_proj.weight"] = [h, inner];
        }
    }
}
