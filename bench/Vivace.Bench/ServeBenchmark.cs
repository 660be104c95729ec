using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vivace.Engine;
using Vivace.Engine.Batching;
using Vivace.Server;

namespace Vivace.Bench;

/// <summary>
/// Load test of <c>POST /embed</c>: the real server (VivaceServer, in this process, on a free loopback port, result
/// cache off) under wrk, against the in-process engine at the same load. For each concurrency C in 1, 8, 32, 128:
/// (a) engine: C concurrent workers, each looping "tokenize one sentence + await the model's EmbeddingQueue";
/// (b) HTTP: <c>wrk -c C --latency -s bench/loadtest/embed.lua URL/embed</c>, posting <c>{"inputs": sentence}</c>.
/// Both sides cycle through the same sentences (bench/loadtest/sentences.txt). Each concurrency runs in short rounds,
/// engine and HTTP alternating, so that both sides see the same drift of a shared machine; prints medians of
/// requests/s, p50 and p99 per side, non-2xx answers and the HTTP/engine throughput ratio (raw and per CPU-second) as
/// a markdown table, then the HTTP-only costs of one request timed alone, and ends with the lines
/// <c>http throughput vs in-process engine at 32 connections: X</c> and <c>non-2xx at &lt;= 32 connections: N</c>.
/// <para>Usage (from the repository root; wrk from <c>bench/loadtest/install.sh</c>, else the HTTP columns are skipped):
/// <c>dotnet run -c Release --project bench/Vivace.Bench -- serve [--quick] [--out FILE.md]</c>
/// (<c>--rounds R</c>, <c>--seconds N</c> per round and side, <c>--connections 8,32</c> for other levels).
/// <c>--quick</c> takes under 2 minutes, the full run under 6. The server's per-request log lines go to stderr
/// (as <c>vivace serve</c> writes them, to a real file descriptor); redirect it (<c>2&gt;serve.log</c>) to keep the
/// terminal readable. <c>--quiet-server</c> turns the request log off, to measure what it costs.</para>
/// </summary>
public static class ServeBenchmark
{
    private static readonly int[] Concurrency = [1, 8, 32, 128];

    private sealed record Load(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, double RequestsPerBatch, double CpuCores);

    private sealed record HttpLoad(Load Load, long Non2xx, long SocketErrors, double WrkCores, string? FirstError);

    public static int Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(string[] args)
    {
        bool quick = args.Contains("--quick");
        bool quietServer = args.Contains("--quiet-server");
        string? outFile = StringArg(args, "--out");
        // Short rounds, engine and HTTP alternating (E H, H E, ...): the machine's speed drifts, and paired rounds
        // see the same drift. Medians over the rounds.
        int rounds = IntArg(args, "--rounds") ?? (quick ? 3 : 6);
        TimeSpan round = TimeSpan.FromSeconds(IntArg(args, "--seconds") ?? (quick ? 3 : 5)), warmup = TimeSpan.FromSeconds(quick ? 2 : 5);
        int[] levels = StringArg(args, "--connections") is { } list
            ? list.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray() : Concurrency;

        string root = RepositoryRoot();
        string script = Path.Combine(root, "bench", "loadtest", "embed.lua");
        string sentencesFile = Path.Combine(root, "bench", "loadtest", "sentences.txt");
        string[] sentences = File.ReadAllLines(sentencesFile).Where(l => l.Length > 0).ToArray();
        string? wrk = FindOnPath("wrk");
        if (wrk is null)
            Console.Error.WriteLine("serve: wrk is not installed, so the HTTP columns are skipped; install it with bench/loadtest/install.sh (apt-get install wrk)");

        var embedder = SentenceEmbedder.Load(CliDefaults.Model);
        // The cache off: repeated sentences are computed every time. Admission far above 128 connections.
        var options = new ServerOptions { Urls = "http://127.0.0.1:0", CacheEntries = 0, MaxConcurrentRequests = 4096 };
        using var registry = new ModelRegistry([ModelSource.Loaded(embedder)], options);
        string[] serverArgs = quietServer
            ? ["--Logging:LogLevel:Vivace.Requests=Warning"]
            : ["--Logging:Console:LogToStandardErrorThreshold=Trace"];
        WebApplication app = VivaceServer.Build(registry, options, serverArgs);
        await app.StartAsync();
        try
        {
            string baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            string url = baseUrl.TrimEnd('/') + "/embed";
            LoadedModel model = await registry.GetAsync(null, wait: true, CancellationToken.None);
            EmbedOptions embedOptions = EmbedOptionsReader.Read(normalize: true, truncate: false, null, null); // /embed's defaults
            int[] tokens = sentences.Select(s => embedder.TokenizeIds(s, embedOptions).Length).Order().ToArray();
            await CheckSameVectorAsync(url, model, sentences[0], embedOptions);

            var report = new StringBuilder();
            report.AppendLine($"serve: POST /embed through HTTP (wrk) vs the in-process engine (EmbeddingQueue), {CliDefaults.Model} fp32, " +
                              $"{EmbedBenchmark.Machine()}, {DateTime.UtcNow:yyyy-MM-dd}{(quick ? ", --quick" : "")}");
            report.AppendLine();
            report.AppendLine($"- {sentences.Length} sentences (bench/loadtest/sentences.txt), {tokens[0]}–{tokens[^1]} tokens (median {tokens[tokens.Length / 2]}), one per request, cycled; result cache off; normalize on");
            report.AppendLine($"- per concurrency: {rounds} rounds of {round.TotalSeconds:F0} s per side, engine and HTTP alternating, after a {warmup.TotalSeconds:F0} s warm-up of each side; " +
                              "req/s, p50 and p99 are medians over the rounds, HTTP/engine the median of the rounds' paired ratios");
            report.AppendLine($"- wrk {(wrk is null ? "not installed" : WrkVersion(wrk))}, min(2, C) threads, on the same machine; server request log {(quietServer ? "off (--quiet-server)" : "on (Information, to stderr)")}; " +
                              $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC");
            report.AppendLine("- engine: C tasks, each looping TokenizeIds + await EmbeddingQueue.EmbedAsync on the server's own queue; HTTP: wrk -c C against the server in this process");
            report.AppendLine("- batch: mean requests per batch the queue ran; cpu: cores this process kept busy on average (engine rounds / HTTP rounds), and wrk's; cpu ms per request: this process's CPU time over the requests answered; " +
                              "HTTP/engine per CPU-s: the same ratio with each side's throughput divided by the cores it got (this VM grants a varying share of its 2 cores)");
            report.AppendLine();
            report.AppendLine("| connections | engine req/s | engine p50 ms | engine p99 ms | HTTP req/s | HTTP p50 ms | HTTP p99 ms | non-2xx | HTTP/engine | HTTP/engine per CPU-s | batch engine / HTTP | cpu engine / HTTP / wrk | cpu ms per request engine / HTTP |");
            report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            Console.Write(report.ToString());

            await EngineAsync(model, sentences, embedOptions, 8, warmup);
            if (wrk != null) await WrkAsync(wrk, script, sentencesFile, url, model.Queue!, 8, warmup);

            var ratios = new Dictionary<int, double>();
            var ratiosPerCpu = new Dictionary<int, double>();
            long non2xxUpTo32 = 0;
            foreach (int c in levels)
            {
                var engine = new List<Load>();
                var http = new List<HttpLoad>();
                var paired = new List<double>();
                var pairedPerCpu = new List<double>();
                for (int r = 0; r < rounds; r++)
                {
                    bool engineFirst = r % 2 == 0;
                    if (engineFirst) engine.Add(await EngineAsync(model, sentences, embedOptions, c, round));
                    if (wrk != null) http.Add(await WrkAsync(wrk, script, sentencesFile, url, model.Queue!, c, round));
                    if (!engineFirst) engine.Add(await EngineAsync(model, sentences, embedOptions, c, round));
                    if (wrk == null) continue;
                    paired.Add(http[^1].Load.RequestsPerSecond / engine[^1].RequestsPerSecond);
                    pairedPerCpu.Add(CpuMsPerRequest(engine[^1]) / CpuMsPerRequest(http[^1].Load));
                }
                string row = $"| {c} | {Median(engine, l => l.RequestsPerSecond):F1} | {Median(engine, l => l.P50Ms):F2} | {Median(engine, l => l.P99Ms):F2} | ";
                if (wrk is null)
                    row += $"– | – | – | – | – | – | {Median(engine, l => l.RequestsPerBatch):F1} / – | {Median(engine, l => l.CpuCores):F2} / – / – | {Median(engine, CpuMsPerRequest):F2} / – |";
                else
                {
                    double ratio = Median(paired, x => x), perCpu = Median(pairedPerCpu, x => x);
                    ratios[c] = ratio;
                    ratiosPerCpu[c] = perCpu;
                    long non2xx = http.Sum(h => h.Non2xx), socketErrors = http.Sum(h => h.SocketErrors);
                    if (c <= 32) non2xxUpTo32 += non2xx + socketErrors;
                    string errors = socketErrors > 0 ? $"{non2xx} (+{socketErrors} socket errors)" : $"{non2xx}";
                    row += $"{Median(http, h => h.Load.RequestsPerSecond):F1} | {Median(http, h => h.Load.P50Ms):F2} | {Median(http, h => h.Load.P99Ms):F2} | {errors} | {ratio:F2} | {perCpu:F2} | " +
                           $"{Median(engine, l => l.RequestsPerBatch):F1} / {Median(http, h => h.Load.RequestsPerBatch):F1} | " +
                           $"{Median(engine, l => l.CpuCores):F2} / {Median(http, h => h.Load.CpuCores):F2} / {Median(http, h => h.WrkCores):F2} | " +
                           $"{Median(engine, CpuMsPerRequest):F2} / {Median(http, h => CpuMsPerRequest(h.Load)):F2} |";
                    foreach (HttpLoad h in http.Where(h => h.FirstError != null).Take(1))
                        Console.Error.WriteLine($"serve: first non-2xx at {c} connections: {h.FirstError}");
                }
                Console.WriteLine(row);
                report.AppendLine(row);
            }

            var summary = new StringBuilder();
            summary.AppendLine().AppendLine("Per request outside the batching queue, one thread, medians over the sentences (µs):").AppendLine();
            foreach (string line in Overhead(model, sentences, embedOptions, options)) summary.AppendLine(line);
            if (!quietServer) summary.AppendLine(LogLine(app));
            if (wrk != null) summary.AppendLine(await HealthLineAsync(wrk, url.Replace("/embed", "/health")));
            summary.AppendLine();
            if (ratios.Count > 0)
            {
                summary.AppendLine($"http throughput vs in-process engine at 32 connections: {(ratios.TryGetValue(32, out double r32) ? r32.ToString("F2", CultureInfo.InvariantCulture) : "n/a")}");
                summary.AppendLine($"http throughput per cpu-second vs in-process engine at 32 connections: {(ratiosPerCpu.TryGetValue(32, out double c32) ? c32.ToString("F2", CultureInfo.InvariantCulture) : "n/a")}");
                summary.AppendLine($"non-2xx at <= 32 connections: {non2xxUpTo32}");
            }
            else
            {
                summary.AppendLine("http throughput vs in-process engine at 32 connections: n/a (wrk not installed: bench/loadtest/install.sh)");
                summary.AppendLine("non-2xx at <= 32 connections: n/a");
            }
            Console.Write(summary.ToString());
            report.Append(summary);
            if (outFile != null) File.WriteAllText(outFile, report.ToString());
            return 0;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>The engine side: <paramref name="concurrency"/> workers, each tokenizing one sentence and awaiting
    /// its vector from the queue, in a loop, until the time is up.</summary>
    private static async Task<Load> EngineAsync(LoadedModel model, string[] sentences, EmbedOptions options, int concurrency, TimeSpan duration)
    {
        using var batches = new BatchCounter(model.Queue!);
        var latencies = new List<double>[concurrency];
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var workers = new Task[concurrency];
        for (int w = 0; w < concurrency; w++)
        {
            var mine = latencies[w] = new List<double>(4096);
            int start = w * 17 % sentences.Length;
            workers[w] = Task.Run(async () =>
            {
                for (int i = start; clock.Elapsed < duration; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    int[] ids = model.Embedder!.TokenizeIds(sentences[i % sentences.Length], options);
                    EmbedResult result = await model.Queue!.EmbedAsync([ids], options.Normalize);
                    if (result.Vectors.Length != 1) throw new InvalidOperationException("one vector expected");
                    mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            });
        }
        await Task.WhenAll(workers);
        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / seconds;
        double[] all = latencies.SelectMany(l => l).Order().ToArray();
        return new Load(all.Length / seconds, Percentile(all, 50), Percentile(all, 99), all.Length, batches.RequestsPerBatch, cpu);
    }

    /// <summary>The HTTP side: wrk against the server, parsed from the summary line embed.lua prints.</summary>
    private static async Task<HttpLoad> WrkAsync(string wrk, string script, string sentencesFile, string url, EmbeddingQueue queue, int connections, TimeSpan duration)
    {
        var start = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[]
                 {
                     "-t", Math.Min(2, connections).ToString(CultureInfo.InvariantCulture),
                     "-c", connections.ToString(CultureInfo.InvariantCulture),
                     "-d", $"{(int)duration.TotalSeconds}s", "--timeout", "30s", "--latency", "-s", script, url, "--", sentencesFile,
                 })
            start.ArgumentList.Add(a);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        double childrenBefore = ChildrenCpuSeconds();
        using var batches = new BatchCounter(queue);
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / seconds;
        double wrkCpu = (ChildrenCpuSeconds() - childrenBefore) / seconds;
        string output = await stdout;
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith("loadtest: requests=", StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"wrk failed (exit {process.ExitCode}):\n{output}\n{await stderr}");
        var fields = line["loadtest: ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => long.Parse(f[1], CultureInfo.InvariantCulture));
        double wrkSeconds = fields["duration_us"] / 1e6;
        string? firstError = output.Split('\n').FirstOrDefault(l => l.StartsWith("loadtest: first non-2xx: ", StringComparison.Ordinal))?["loadtest: first non-2xx: ".Length..];
        var load = new Load(fields["requests"] / wrkSeconds, fields["p50_us"] / 1e3, fields["p99_us"] / 1e3, fields["requests"], batches.RequestsPerBatch, cpu);
        return new HttpLoad(load, fields["non2xx"],
            fields["connect_errors"] + fields["read_errors"] + fields["write_errors"] + fields["timeouts"], wrkCpu, firstError);
    }

    /// <summary>The pieces of one request's CPU work, timed alone: what both sides do (tokenize, the model on a batch of
    /// one) and what only the HTTP side does (read the body, write the answer).</summary>
    private static List<string> Overhead(LoadedModel model, string[] sentences, EmbedOptions options, ServerOptions serverOptions)
    {
        var lines = new List<string>();
        byte[][] bodies = sentences.Select(s => Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["inputs"] = s }))).ToArray();
        int[][] ids = sentences.Select(s => model.Embedder!.TokenizeIds(s, options)).ToArray();
        float[][][] answers = ids.Select(i => model.Embedder!.EmbedTokens([i], normalize: true)).ToArray();
        int bytes = ServerContext.Json(answers[0], ServerJsonContext.Default.SingleArrayArray).Length;
        lines.Add($"- parse the body (JSON + inputs): {MedianMicroseconds(bodies, b => Inputs.Read(ServerContext.Parse(b, ServerJsonContext.Default.TeiEmbedRequest).Inputs, "inputs", serverOptions, true))}");
        lines.Add($"- serialize the answer (1×{model.Embedder!.Dimensions} floats, ~{bytes} bytes of JSON): {MedianMicroseconds(answers, a => ServerContext.Json(a, ServerJsonContext.Default.SingleArrayArray))}");
        lines.Add($"- tokenize (both sides): {MedianMicroseconds(sentences, s => model.Embedder!.TokenizeIds(s, options))}");
        lines.Add($"- the model on a batch of one (both sides): {MedianMicroseconds(ids, i => model.Embedder!.EmbedTokens([i], normalize: true), passes: 3)}");
        return lines;
    }

    /// <summary>One request log line as the server writes it (through its own logger; the caller's share: format and
    /// enqueue; the console writer thread adds its write).</summary>
    private static string LogLine(WebApplication app)
    {
        ILogger log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Vivace.Requests");
        string[] ids = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        string us = MedianMicroseconds(ids, id =>
        {
            log.LogInformation("{Method} {Path} {Status} in {ElapsedMs:F1} ms, request {RequestId}", "POST", "/embed", 200, 12.3456, id);
            return id;
        });
        return $"- one request log line (format and enqueue; to stderr): {us}";
    }

    private static string MedianMicroseconds<T>(T[] items, Func<T, object> work, int passes = 50)
    {
        foreach (T item in items) work(item); // warm
        var times = new List<double>();
        for (int p = 0; p < passes; p++)
            foreach (T item in items)
            {
                long t0 = Stopwatch.GetTimestamp();
                work(item);
                times.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
        times.Sort();
        return times[times.Count / 2].ToString(times[times.Count / 2] < 100 ? "F1" : "F0", CultureInfo.InvariantCulture);
    }

    /// <summary>Kestrel and the request pipeline alone: GET /health (no model, no log line) under wrk at 8 connections.</summary>
    private static async Task<string> HealthLineAsync(string wrk, string url)
    {
        var start = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-t", "2", "-c", "8", "-d", "3s", url }) start.ArgumentList.Add(a);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / clock.Elapsed.TotalSeconds;
        string? rps = output.Split('\n').FirstOrDefault(l => l.StartsWith("Requests/sec:", StringComparison.Ordinal))?.Split(':')[1].Trim();
        if (rps is null || !double.TryParse(rps, CultureInfo.InvariantCulture, out double r)) return "- GET /health under wrk -c 8: wrk gave no rate";
        return $"- Kestrel + request pipeline (GET /health under wrk -c 8, no model): {r:F0} req/s at {cpu:F2} cores, {cpu * 1e6 / r:F0} µs CPU per request";
    }

    /// <summary>Counts the batches a queue runs while it lives (requests per batch shows how much batching happened).</summary>
    private sealed class BatchCounter : IDisposable
    {
        private readonly EmbeddingQueue _queue;
        private long _batches, _requests;

        public BatchCounter(EmbeddingQueue queue)
        {
            _queue = queue;
            _queue.BatchCompleted += OnBatch;
        }

        public double RequestsPerBatch => Interlocked.Read(ref _batches) is > 0 and var b ? (double)Interlocked.Read(ref _requests) / b : 0;

        private void OnBatch(BatchRun run)
        {
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _requests, run.Requests);
        }

        public void Dispose() => _queue.BatchCompleted -= OnBatch;
    }

    /// <summary>Both sides must compute the same thing: the HTTP answer for a sentence equals the engine's vector.</summary>
    private static async Task CheckSameVectorAsync(string url, LoadedModel model, string sentence, EmbedOptions options)
    {
        float[] engine = (await model.Queue!.EmbedAsync([model.Embedder!.TokenizeIds(sentence, options)], options.Normalize)).Vectors[0];
        using var client = new HttpClient();
        string body = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["inputs"] = sentence });
        using HttpResponseMessage response = await client.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /embed answered {(int)response.StatusCode}: {text}");
        float[] http = System.Text.Json.JsonSerializer.Deserialize<float[][]>(text)![0];
        double worst = engine.Zip(http, (a, b) => Math.Abs(a - b)).Max();
        if (http.Length != engine.Length || worst > 1e-6)
            throw new InvalidOperationException($"HTTP and engine vectors differ (length {http.Length} vs {engine.Length}, max |diff| {worst})");
    }

    private static double CpuMsPerRequest(Load l) => l.CpuCores * 1000 / l.RequestsPerSecond;

    private static double Median<T>(IReadOnlyList<T> items, Func<T, double> value)
    {
        double[] v = items.Select(value).Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];

    /// <summary>The directory holding Vivace.slnx, from the working directory or the binary upwards.</summary>
    private static string RepositoryRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (string? d = Path.GetFullPath(start); d != null; d = Path.GetDirectoryName(d))
                if (File.Exists(Path.Combine(d, "Vivace.slnx")) && File.Exists(Path.Combine(d, "bench", "loadtest", "embed.lua"))) return d;
        throw new InvalidOperationException("run from the Vivace repository (bench/loadtest/embed.lua not found)");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static string WrkVersion(string wrk)
    {
        try
        {
            using Process p = Process.Start(new ProcessStartInfo(wrk, "-v") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            string first = text.Split('\n')[0];
            int cut = first.IndexOf(" Copyright", StringComparison.Ordinal);
            return (cut > 0 ? first[..cut] : first).Replace("wrk ", "").Trim();
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception) { return "?"; }
    }

    /// <summary>CPU seconds (user + system) of this process's finished children (wrk), from getrusage(RUSAGE_CHILDREN).</summary>
    private static unsafe double ChildrenCpuSeconds()
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        long* usage = stackalloc long[32]; // struct rusage: two timevals, then 14 longs
        if (getrusage(-1, usage) != 0) return double.NaN;
        return usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int getrusage(int who, long* usage);

    private static int? IntArg(string[] args, string name) =>
        StringArg(args, name) is { } v && int.TryParse(v, CultureInfo.InvariantCulture, out int n) ? n : null;

    private static string? StringArg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
