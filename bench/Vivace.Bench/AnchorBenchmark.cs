using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Vivace.Cpu;
using Vivace.Engine;
using Vivace.Models;

namespace Vivace.Bench;

/// <summary>
/// The "out-of-the-box" anchor: all-MiniLM-L6-v2 (encoder + mean pooling + L2 normalize) through Debian 12's
/// python3-torch exactly as installed (bench/anchor/minilm_torch.py: torch.nn modules, default threads, fp32, eval,
/// no_grad), against Vivace on the same batch×seq shapes. PyTorch runs first in its own process; Vivace runs after
/// it exits so the two never compete for the cores. Ratio: PyTorch median / Vivace median (above 1: Vivace faster).
/// Prerequisite: bench/anchor/install.sh.
/// </summary>
public static class AnchorBenchmark
{
    private const string Python = "/usr/bin/python3";
    private static readonly (int Batch, int Seq)[] Shapes = [(1, 16), (1, 128), (8, 128), (32, 128)];

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int threads = EmbedBenchmark.IntArg(args, "--threads") ?? Environment.ProcessorCount;
        string? outFile = EmbedBenchmark.StringArg(args, "--out");
        double budgetSeconds = quick ? 5 : 30;

        if (!TorchAvailable(out string why))
        {
            Console.Error.WriteLine($"anchor: {Python} cannot import torch ({why}); run bench/anchor/install.sh");
            return 2;
        }
        string? script = FindScript();
        if (script is null)
        {
            Console.Error.WriteLine("anchor: bench/anchor/minilm_torch.py not found (run from the repository)");
            return 2;
        }

        // 1. PyTorch, alone.
        string shapes = string.Join(",", Shapes.Select(s => $"{s.Batch}x{s.Seq}"));
        Console.WriteLine($"pytorch: {Python} {script} --shapes {shapes} --budget-seconds {budgetSeconds} ...");
        string json = RunPython(script, $"--shapes {shapes} --budget-seconds {budgetSeconds} --json", out int rc, out string stderr);
        if (rc != 0)
        {
            Console.Error.WriteLine($"anchor: minilm_torch.py exited {rc}:\n{stderr}");
            return 2;
        }
        if (!string.IsNullOrWhiteSpace(stderr)) Console.Error.Write(stderr);
        using var doc = JsonDocument.Parse(json.Trim().Split('\n')[^1]);
        var root = doc.RootElement;
        string torchVersion = root.GetProperty("torch").GetString() ?? "?";
        int torchThreads = root.GetProperty("threads").GetInt32();
        string weights = root.GetProperty("weights").GetString() ?? "?";
        string blas = root.TryGetProperty("blas", out var b) ? b.GetString() ?? "?" : "?";
        var torchMs = new Dictionary<(int, int), (double Ms, int Runs)>();
        foreach (var r in root.GetProperty("results").EnumerateArray())
            torchMs[(r.GetProperty("batch").GetInt32(), r.GetProperty("seq").GetInt32())] =
                (r.GetProperty("median_ms").GetDouble(), r.GetProperty("runs").GetInt32());

        // 2. Vivace, after PyTorch has exited.
        var ops = new CpuOps(threads);
        var embedder = SentenceEmbedder.Load(CliDefaults.Model, ops);
        var vivaceMs = new Dictionary<(int, int), (double Ms, int Runs)>();
        foreach ((int batch, int seq) in Shapes)
        {
            var encoderBatch = EncoderBatch.FromSequences(EmbedBenchmark.TokenIds(batch, seq, embedder.Model.Encoder.VocabSize));
            vivaceMs[(batch, seq)] = MedianMs(() => embedder.Model.Encode(encoderBatch), TimeSpan.FromSeconds(budgetSeconds));
        }

        var report = new StringBuilder();
        report.AppendLine($"anchor: all-MiniLM-L6-v2 fp32, out-of-the-box PyTorch vs Vivace, {EmbedBenchmark.Machine()}, {DateTime.UtcNow:yyyy-MM-dd}{(quick ? ", --quick" : "")}");
        report.AppendLine();
        report.AppendLine($"PyTorch: Debian python3-torch {torchVersion} as installed (bench/anchor/install.sh), {torchThreads} threads (its default), " +
            $"fp32, eval, no_grad, plain torch.nn (bench/anchor/minilm_torch.py), libblas.so.3 → {blas}, weights: {weights}{(weights == "random" ? " (same shapes; timing is what matters)" : "")}.");
        report.AppendLine($"Vivace: SentenceEmbedder.Model.Encode, {threads} threads, kernels {ops.Path}. Both: ids → pooled L2-normalized vectors, " +
            $"median of repeated runs over ~{budgetSeconds} s per shape, PyTorch first (own process), Vivace after it exited.");
        report.AppendLine();
        report.AppendLine("| batch×seq | pytorch ms | vivace ms | speedup (pytorch/vivace) |");
        report.AppendLine("|---|---:|---:|---:|");
        double logSum = 0;
        foreach ((int batch, int seq) in Shapes)
        {
            double p = torchMs[(batch, seq)].Ms, v = vivaceMs[(batch, seq)].Ms;
            logSum += Math.Log(p / v);
            report.AppendLine($"| {batch}×{seq} | {p:F3} | {v:F3} | {p / v:F2} |");
        }
        report.AppendLine();
        report.AppendLine($"vivace speedup vs out-of-the-box pytorch (geomean): {Math.Exp(logSum / Shapes.Length):F2}");
        Console.WriteLine();
        Console.Write(report.ToString());
        if (outFile != null) File.WriteAllText(outFile, report.ToString());
        return 0;
    }

    private static bool TorchAvailable(out string why)
    {
        why = "";
        if (!File.Exists(Python)) { why = $"{Python} not found"; return false; }
        try
        {
            RunPython(null, "-c \"import torch\"", out int rc, out string stderr);
            why = stderr.Trim().Split('\n')[^1];
            return rc == 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            why = e.Message;
            return false;
        }
    }

    private static string RunPython(string? script, string arguments, out int exitCode, out string stderr)
    {
        var psi = new ProcessStartInfo(Python, script is null ? arguments : $"\"{script}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new IOException($"could not start {Python}");
        var errTask = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        stderr = errTask.Result;
        exitCode = process.ExitCode;
        return stdout;
    }

    /// <summary>bench/anchor/minilm_torch.py, looked for upward from the working directory and from the binary.</summary>
    private static string? FindScript()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "bench", "anchor", "minilm_torch.py");
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    /// <summary>Median after 2 warm-ups (as the Python side does), until the budget is spent (min 5, max 2000 runs).</summary>
    private static (double Ms, int Runs) MedianMs(Func<float[][]> run, TimeSpan budget)
    {
        for (int i = 0; i < 2; i++) run();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed < budget && times.Count < 2000))
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        times.Sort();
        return (times[times.Count / 2], times.Count);
    }
}
