using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Vivace.Cpu;
using Vivace.Engine;
using Vivace.Models;

namespace Vivace.Bench;

/// <summary>
/// all-MiniLM-L6-v2, Vivace against ONNX Runtime (ORT_ENABLE_ALL, same thread count) on the same token ids, from
/// ids to pooled sentence vectors, at batch×seq 1×16, 1×128, 8×128, 32×128. Prints medians and ratios
/// (ORT time / Vivace time: above 1 means Vivace is faster) and their geometric mean.
/// </summary>
public static class EmbedBenchmark
{
    private static readonly (int Batch, int Seq)[] Shapes = [(1, 16), (1, 128), (8, 128), (32, 128)];

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        if (args.Contains("--profile")) return Profile(IntArg(args, "--threads") ?? Environment.ProcessorCount);
        int threads = IntArg(args, "--threads") ?? Environment.ProcessorCount;
        string? outFile = StringArg(args, "--out");
        TimeSpan budget = TimeSpan.FromSeconds(quick ? 6 : 30);

        var ops = new CpuOps(threads);
        var embedder = SentenceEmbedder.Load(CliDefaults.Model, ops);
        // The same model with int8 linear layers (CpuOps.LinearPrecision.Int8: VNNI where the CPU has it).
        var int8Embedder = SentenceEmbedder.Load(CliDefaults.Model, new CpuOps(threads) { LinearPrecision = LinearPrecision.Int8 });
        // And with bf16 linear weights (CpuOps.LinearPrecision.BF16: f32 activations and accumulation).
        var bf16Embedder = SentenceEmbedder.Load(CliDefaults.Model, new CpuOps(threads) { LinearPrecision = LinearPrecision.BF16 });
        string onnxPath = Path.Combine(embedder.Directory, "onnx", "model.onnx");
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        using var session = new InferenceSession(onnxPath, sessionOptions);

        var report = new StringBuilder();
        report.AppendLine($"all-MiniLM-L6-v2 fp32, {threads} threads, kernels {ops.Path}, {Machine()}, {DateTime.UtcNow:yyyy-MM-dd}, ORT {OrtVersion()}{(quick ? ", --quick" : "")}");
        report.AppendLine();
        report.AppendLine("| batch×seq | vivace ms (median) | onnxruntime ms (median) | speedup (ort/vivace) | min cosine | vivace int8 ms | int8 speedup (ort f32/int8) | int8 min cosine | vivace bf16 ms | bf16 speedup (ort f32/bf16) | bf16 min cosine |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Console.Write(report.ToString());
        double logSum = 0, int8LogSum = 0, bf16LogSum = 0;
        foreach ((int batch, int seq) in Shapes)
        {
            int[][] ids = TokenIds(batch, seq, embedder.Model.Encoder.VocabSize);
            var encoderBatch = EncoderBatch.FromSequences(ids);
            var (ortIds, ortMask, ortTypes) = OrtInputs(ids, seq);

            Func<float[][]> vivace = () => embedder.Model.Encode(encoderBatch);
            Func<float[][]> ort = () =>
            {
                var inputs = new List<NamedOnnxValue>
                {
                    NamedOnnxValue.CreateFromTensor("input_ids", ortIds),
                    NamedOnnxValue.CreateFromTensor("attention_mask", ortMask),
                    NamedOnnxValue.CreateFromTensor("token_type_ids", ortTypes),
                };
                using var results = session.Run(inputs);
                return MeanPoolNormalize(results.First().AsTensor<float>(), batch, seq);
            };
            // Both sides must compute the same thing: the worst cosine between their sentence vectors.
            Func<float[][]> int8 = () => int8Embedder.Model.Encode(encoderBatch);
            Func<float[][]> bf16 = () => bf16Embedder.Model.Encode(encoderBatch);
            double cosine = MinCosine(vivace(), ort()), int8Cosine = MinCosine(int8(), ort()), bf16Cosine = MinCosine(bf16(), ort());
            double v = MedianMs(vivace, budget), o = MedianMs(ort, budget), q = MedianMs(int8, budget), h = MedianMs(bf16, budget);
            double ratio = o / v;
            logSum += Math.Log(ratio);
            int8LogSum += Math.Log(o / q);
            bf16LogSum += Math.Log(o / h);
            string row = $"| {batch}×{seq} | {v:F3} | {o:F3} | {ratio:F2} | {cosine:F6} | {q:F3} | {o / q:F2} | {int8Cosine:F4} | {h:F3} | {o / h:F2} | {bf16Cosine:F4} |";
            Console.WriteLine(row);
            report.AppendLine(row);
        }
        double geomean = Math.Exp(logSum / Shapes.Length);
        string summary = $"fp32 geomean speedup vs onnxruntime: {geomean:F2}\n" +
            $"int8 geomean speedup vs onnxruntime: {Math.Exp(int8LogSum / Shapes.Length):F2}\n" +
            $"bf16 geomean speedup vs onnxruntime: {Math.Exp(bf16LogSum / Shapes.Length):F2}";
        Console.WriteLine();
        Console.WriteLine(summary);
        report.AppendLine().AppendLine(summary);
        if (outFile != null) File.WriteAllText(outFile, report.ToString());
        return 0;
    }

    /// <summary>Where Vivace's time goes, op by op, at each shape (no rival).</summary>
    private static int Profile(int threads)
    {
        var ops = new ProfilingOps(new CpuOps(threads));
        var embedder = SentenceEmbedder.Load(CliDefaults.Model, ops);
        foreach ((int batch, int seq) in Shapes)
        {
            var encoderBatch = EncoderBatch.FromSequences(TokenIds(batch, seq, embedder.Model.Encoder.VocabSize));
            int runs = Math.Max(3, 200 / batch / (seq / 16));
            for (int i = 0; i < 3; i++) embedder.Model.Encode(encoderBatch);
            ops.Reset();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < runs; i++) embedder.Model.Encode(encoderBatch);
            Console.WriteLine($"{batch}×{seq}: {clock.Elapsed.TotalMilliseconds / runs:F3} ms/run");
            Console.WriteLine(ops.Report(runs));
        }
        return 0;
    }

    /// <summary>Median of repeated runs after warm-up, alternating nothing else; stops at the time budget (min 5 runs).</summary>
    private static double MinCosine(float[][] a, float[][] b)
    {
        double worst = 1;
        for (int i = 0; i < a.Length; i++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int j = 0; j < a[i].Length; j++) { dot += (double)a[i][j] * b[i][j]; na += (double)a[i][j] * a[i][j]; nb += (double)b[i][j] * b[i][j]; }
            worst = Math.Min(worst, dot / Math.Sqrt(na * nb));
        }
        return worst;
    }

    private static double MedianMs(Func<float[][]> run, TimeSpan budget)
    {
        for (int i = 0; i < 3; i++) run();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed < budget && times.Count < 2000))
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Deterministic ids: [CLS] random word pieces [SEP], exactly <paramref name="seq"/> tokens each.</summary>
    private static int[][] TokenIds(int batch, int seq, int vocab)
    {
        var random = new Random(1234);
        var result = new int[batch][];
        for (int b = 0; b < batch; b++)
        {
            var row = new int[seq];
            for (int t = 0; t < seq; t++) row[t] = random.Next(1000, vocab);
            row[0] = 101;
            row[^1] = 102;
            result[b] = row;
        }
        return result;
    }

    private static (DenseTensor<long>, DenseTensor<long>, DenseTensor<long>) OrtInputs(int[][] ids, int seq)
    {
        var inputIds = new DenseTensor<long>([ids.Length, seq]);
        var mask = new DenseTensor<long>([ids.Length, seq]);
        var types = new DenseTensor<long>([ids.Length, seq]);
        for (int b = 0; b < ids.Length; b++)
            for (int t = 0; t < seq; t++)
            {
                inputIds[b, t] = ids[b][t];
                mask[b, t] = 1;
            }
        return (inputIds, mask, types);
    }

    /// <summary>What sentence-transformers adds after the ONNX graph: mean over tokens, then L2 normalization.</summary>
    private static float[][] MeanPoolNormalize(Tensor<float> hidden, int batch, int seq)
    {
        int h = hidden.Dimensions[2];
        var result = new float[batch][];
        for (int b = 0; b < batch; b++)
        {
            var v = new float[h];
            for (int t = 0; t < seq; t++)
                for (int j = 0; j < h; j++) v[j] += hidden[b, t, j];
            float norm = 0;
            for (int j = 0; j < h; j++) { v[j] /= seq; norm += v[j] * v[j]; }
            norm = MathF.Max(MathF.Sqrt(norm), 1e-12f);
            for (int j = 0; j < h; j++) v[j] /= norm;
            result[b] = v;
        }
        return result;
    }

    public static string Machine()
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        string isa = Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : "SSE/NEON";
        return $"{cpu}, {Environment.ProcessorCount} cores, {isa}, {RuntimeInformation.OSDescription}";
    }

    private static string OrtVersion() => typeof(InferenceSession).Assembly.GetName().Version?.ToString() ?? "?";

    internal static int? IntArg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) ? v : null;
    }

    internal static string? StringArg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

internal static class CliDefaults
{
    public const string Model = "sentence-transformers/all-MiniLM-L6-v2";
}
