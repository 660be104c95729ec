using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Vivace.Engine;
using Vivace.Engine.Batching;

namespace Vivace.Server.Tests;

/// <summary>
/// A real Vivace server on a free loopback port with the models and options a test chooses, plus what the tests
/// share: the packaged model (loaded once per process and served under any id), request helpers, /metrics
/// parsing, and polling with generous deadlines (no timing assertions: every wait is for a condition).
/// </summary>
internal sealed partial class TestServer : IAsyncDisposable
{
    public const string MiniLmId = "sentence-transformers/all-MiniLM-L6-v2";

    private static readonly Lazy<SentenceEmbedder> s_miniLm = new(() => SentenceEmbedder.Load(MiniLmId));

    /// <summary>The packaged model, loaded once for the test process (the embedder is thread-safe).</summary>
    public static SentenceEmbedder MiniLm => s_miniLm.Value;

    /// <summary>The packaged model under another id (same weights, same directory).</summary>
    public static SentenceEmbedder MiniLmAs(string id) => new(id, MiniLm.Directory, MiniLm.Tokenizer, MiniLm.Model);

    /// <summary>How long any wait for a condition may take before the test fails: generous for a busy 2-core machine.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly WebApplication _app;

    private TestServer(WebApplication app, ModelRegistry registry, Uri address)
    {
        _app = app;
        Registry = registry;
        Address = address;
        Client = NewClient();
    }

    public ModelRegistry Registry { get; }
    public Uri Address { get; }
    public HttpClient Client { get; }

    public static async Task<TestServer> StartAsync(IEnumerable<ModelSource> sources, ServerOptions? options = null)
    {
        options = (options ?? new ServerOptions()) with { Urls = "http://127.0.0.1:0" };
        var registry = new ModelRegistry(sources, options);
        WebApplication app = VivaceServer.Build(registry, options);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestServer(app, registry, new Uri(address));
    }

    /// <summary>A server of the packaged model alone, already loaded.</summary>
    public static Task<TestServer> StartAsync(ServerOptions? options = null) => StartAsync([ModelSource.Loaded(MiniLm)], options);

    /// <summary>A client of its own (its own connections: cancelling it closes them).</summary>
    public HttpClient NewClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(3) };

    public LoadedModel Model(string id) => Registry.Loaded.Single(m => m.Id == id);

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public static StringContent Json(object body) => Json(JsonSerializer.Serialize(body));

    public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(
        string path, object body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is string s ? Json(s) : Json(body) };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        HttpResponseMessage response = await Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    public Task<string> MetricsAsync() => Client.GetStringAsync("/metrics");

    /// <summary>The value of one sample in Prometheus text: the metric name and exactly these labels (any order);
    /// null when there is no such sample.</summary>
    public static double? Sample(string metrics, string name, params (string Name, string Value)[] labels)
    {
        foreach (string line in metrics.Split('\n'))
        {
            if (line.StartsWith('#')) continue;
            Match m = SampleLine().Match(line.Trim());
            if (!m.Success || m.Groups["name"].Value != name) continue;
            var have = LabelPair().Matches(m.Groups["labels"].Value).Select(l => (l.Groups[1].Value, l.Groups[2].Value)).ToHashSet();
            if (have.SetEquals(labels)) return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return null;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>(?:[^"}]|"(?:[^"\\]|\\.)*")*)\})?\s+(?<value>\S+)""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();

    /// <summary>Waits until a sample has the expected value. Request metrics are recorded as a request ends and
    /// batch metrics after the batch's answers, so a client can see its response a moment before they count it.</summary>
    public static async Task ExpectSampleAsync(Func<Task<string>> scrape, string name, double? expected, params (string Name, string Value)[] labels)
    {
        var deadline = DateTime.UtcNow + Patience;
        double? last;
        while ((last = Sample(await scrape(), name, labels)) != expected)
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{name}{{{string.Join(",", labels.Select(l => $"{l.Name}=\"{l.Value}\""))}}} is {last?.ToString() ?? "absent"}, expected {expected}");
            await Task.Delay(20);
        }
    }

    public Task ExpectSampleAsync(string name, double? expected, params (string Name, string Value)[] labels) =>
        ExpectSampleAsync(MetricsAsync, name, expected, labels);

    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails the test after <see cref="Patience"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Inputs of about <paramref name="words"/> distinct words each (all different, so nothing is cached).</summary>
    public static string[] LongInputs(int count, int words, string salt = "") =>
        Enumerable.Range(0, count).Select(i => $"{salt} input {i}: " + string.Join(' ', Enumerable.Range(0, words).Select(w => $"word{(w * 7 + i) % 97}"))).ToArray();

    /// <summary>Holds a model's batching worker after a batch: while armed, the worker blocks in BatchCompleted
    /// (the batch's own requests are answered already) so whatever is queued next stays queued until released.</summary>
    public sealed class WorkerGate : IDisposable
    {
        private readonly ManualResetEventSlim _release = new(false);
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _armed = 1;

        public WorkerGate(ModelRegistry registry) => registry.BatchCompleted += OnBatch;

        /// <summary>Completes once the worker is held.</summary>
        public Task Held => _held.Task;

        private void OnBatch(string model, BatchRun run)
        {
            if (Interlocked.Exchange(ref _armed, 0) == 0) return;
            _held.TrySetResult();
            _release.Wait(Patience);
        }

        public void Release() => _release.Set();

        public void Dispose() => _release.Set();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
        Registry.Dispose();
    }
}
