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
/// (ORT time / Vivace time: above 1 means Vivace is faster) and their geometric mean. Each column is timed in a
/// stretch of its own, not interleaved call by call: ORT's intra-op threads spin for a while after every run, and on
/// two cores they take the CPU from whichever side runs next (measured: interleaving moved the fp32 line from 1.02 to
/// 0.81–0.86 on the 2-vCPU VM).
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
        // ORT's own dynamic int8 (quantize_dynamic's pattern, rewritten by bench/anchor/quantize_onnx_dynamic.py),
        // same options; left out when python3/onnx or the script is missing.
        using var int8Session = OrtInt8Session(onnxPath, sessionOptions);

        var report = new StringBuilder();
        report.AppendLine($"all-MiniLM-L6-v2 fp32, {threads} threads, kernels {ops.Path}, {Machine()}, {DateTime.UtcNow:yyyy-MM-dd}, ORT {OrtVersion()}{(quick ? ", --quick" : "")}");
        report.AppendLine();
        report.AppendLine("| batch×seq | vivace ms (median) | onnxruntime ms (median) | speedup (ort/vivace) | min cosine | vivace int8 ms | int8 speedup (ort f32/int8) | int8 min cosine | vivace bf16 ms | bf16 speedup (ort f32/bf16) | bf16 min cosine |" +
            (int8Session != null ? " ort int8 ms | ort int8 speedup (ort f32/ort int8) | ort int8 min cosine |" : ""));
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + (int8Session != null ? "---:|---:|---:|" : ""));
        Console.Write(report.ToString());
        double logSum = 0, int8LogSum = 0, bf16LogSum = 0, ortInt8LogSum = 0, int8VsOrtInt8LogSum = 0;
        foreach ((int batch, int seq) in Shapes)
        {
            int[][] ids = TokenIds(batch, seq, embedder.Model.Encoder.VocabSize);
            var encoderBatch = EncoderBatch.FromSequences(ids);
            var (ortIds, ortMask, ortTypes) = OrtInputs(ids, seq);

            Func<float[][]> vivace = () => embedder.Model.Encode(encoderBatch);
            Func<InferenceSession, float[][]> runOrt = s =>
            {
                var inputs = new List<NamedOnnxValue>
                {
                    NamedOnnxValue.CreateFromTensor("input_ids", ortIds),
                    NamedOnnxValue.CreateFromTensor("attention_mask", ortMask),
                    NamedOnnxValue.CreateFromTensor("token_type_ids", ortTypes),
                };
                using var results = s.Run(inputs);
                return MeanPoolNormalize(results.First().AsTensor<float>(), batch, seq);
            };
            Func<float[][]> ort = () => runOrt(session);
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
            if (int8Session != null)
            {
                Func<float[][]> ortInt8 = () => runOrt(int8Session);
                double ortInt8Cosine = MinCosine(ortInt8(), ort());
                double oq = MedianMs(ortInt8, budget);
                ortInt8LogSum += Math.Log(o / oq);
                int8VsOrtInt8LogSum += Math.Log(oq / q);
                row += $" {oq:F3} | {o / oq:F2} | {ortInt8Cosine:F4} |";
            }
            Console.WriteLine(row);
            report.AppendLine(row);
        }
        double geomean = Math.Exp(logSum / Shapes.Length);
        string summary = $"fp32 geomean speedup vs onnxruntime: {geomean:F2}\n" +
            $"int8 geomean speedup vs onnxruntime: {Math.Exp(int8LogSum / Shapes.Length):F2}\n" +
            $"bf16 geomean speedup vs onnxruntime: {Math.Exp(bf16LogSum / Shapes.Length):F2}";
        if (int8Session != null)
            summary += $"\nonnxruntime int8 geomean speedup vs onnxruntime fp32: {Math.Exp(ortInt8LogSum / Shapes.Length):F2}" +
                $"\nvivace int8 vs onnxruntime int8 (geomean): {Math.Exp(int8VsOrtInt8LogSum / Shapes.Length):F2}";
        Console.WriteLine();
        Console.WriteLine(summary);
        report.AppendLine().AppendLine(summary);
        if (outFile != null) File.WriteAllText(outFile, report.ToString());
        return 0;
    }

    /// <summary>
    /// ORT's dynamic int8 rival: bench/anchor/quantize_onnx_dynamic.py (onnx + numpy under /usr/bin/python3) rewrites
    /// model.onnx's weight MatMuls into quantize_dynamic's DynamicQuantizeLinear → MatMulInteger → Cast → Mul pattern
    /// (QUInt8 activations, QInt8 per-channel weights) in a temp file, opened with the same options (ORT_ENABLE_ALL fuses
    /// it into MatMulIntegerToFloat). Null, with a one-line note, when anything along the way is missing or fails.
    /// </summary>
    private static InferenceSession? OrtInt8Session(string onnxPath, SessionOptions options)
    {
        const string python = "/usr/bin/python3";
        string? script = null;
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null && script == null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "bench", "anchor", "quantize_onnx_dynamic.py");
                if (File.Exists(candidate)) script = candidate;
            }
        if (script == null || !File.Exists(python))
        {
            Console.WriteLine($"note: onnxruntime int8 column left out ({(script == null ? "bench/anchor/quantize_onnx_dynamic.py not found" : python + " missing")})");
            return null;
        }
        string outPath = Path.Combine(Path.GetTempPath(), $"vivace-minilm-int8-{Environment.ProcessId}.onnx");
        try
        {
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(script);
            // quantize_dynamic(per_channel=True): per-tensor weight scales wreck MiniLM's FFN-output matrices (single
            // outliers, min cosine 0.86-0.94 vs fp32); per output channel gives 0.97-0.99 (what's left is the per-tensor
            // activation quantization of DynamicQuantizeLinear). And reduce_range=True without VNNI, as ORT advises:
            // MLAS's AVX2 u8s8 kernel (VPMADDUBSW) saturates int16 pair sums with full 8-bit weights.
            start.ArgumentList.Add("--per-channel");
            if (!HasVnni()) start.ArgumentList.Add("--reduce-range");
            start.ArgumentList.Add(onnxPath);
            start.ArgumentList.Add(outPath);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                string why = stderr.Result.Trim().Split('\n')[^1];
                Console.WriteLine($"note: onnxruntime int8 column left out (quantize_onnx_dynamic.py exited {process.ExitCode}: {why}; bench/anchor/install.sh installs python3-onnx)");
                return null;
            }
            Console.WriteLine($"onnxruntime int8: {stdout.Trim()} (bench/anchor/quantize_onnx_dynamic.py)");
            return new InferenceSession(outPath, options);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or OnnxRuntimeException or InvalidOperationException)
        {
            Console.WriteLine($"note: onnxruntime int8 column left out ({e.GetType().Name}: {e.Message.Split('\n')[0]})");
            return null;
        }
        finally
        {
            try { File.Delete(outPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>AVX-VNNI or AVX512-VNNI, where MLAS's u8s8 kernels don't saturate.</summary>
    private static bool HasVnni()
    {
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) return true;
        try
        {
            string? flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags"));
            return flags != null && flags.Split(' ').Contains("avx512_vnni");
        }
        catch (IOException) { return false; }
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
    internal static int[][] TokenIds(int batch, int seq, int vocab)
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
