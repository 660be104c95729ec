using System.Net;
using System.Text.Json;
using Vivace.Engine;
using Vivace.Engine.Batching;

namespace Vivace.Server.Tests;

/// <summary>Models load on first use (503 with estimated_time unless the request waits), and under a memory
/// budget the least recently used idle model is unloaded.</summary>
public class ModelLoadingTests
{
    private const string Second = "org/second-model";

    /// <summary>A source whose load blocks until the test opens the gate.</summary>
    private static ModelSource Gated(string id, ManualResetEventSlim gate, Action? started = null) => new(id, () =>
    {
        started?.Invoke();
        Assert.True(gate.Wait(TestServer.Patience), "the test never released the load");
        return TestServer.MiniLmAs(id);
    });

    [Fact]
    public async Task AModelStillLoadingIs503UnlessTheRequestWaits()
    {
        using var gate = new ManualResetEventSlim(false);
        int loads = 0;
        await using TestServer server = await TestServer.StartAsync(
            [ModelSource.Loaded(TestServer.MiniLm), Gated(Second, gate, () => Interlocked.Increment(ref loads))]);

        // Not waiting: 503 with the HF body, while the load goes on in the background.
        var (status, error, response) = await server.PostAsync($"/models/{Second}", new { inputs = "hello" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Loading", error.GetProperty("error_type").GetString());
        Assert.Contains(Second, error.GetProperty("error").GetString());
        Assert.True(error.GetProperty("estimated_time").GetDouble() > 0, error.ToString());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        // Waiting: with options.wait_for_model, and with the x-wait-for-model header.
        using HttpClient client = server.NewClient();
        Task<HttpResponseMessage> byOption = client.PostAsync($"/models/{Second}",
            TestServer.Json(new { inputs = "waits by option", options = new { wait_for_model = true } }));
        using var byHeaderRequest = new HttpRequestMessage(HttpMethod.Post, $"/pipeline/feature-extraction/{Second}")
        {
            Content = TestServer.Json(new { inputs = new[] { "waits by header", "two" } }),
        };
        byHeaderRequest.Headers.Add("x-wait-for-model", "true");
        Task<HttpResponseMessage> byHeader = client.SendAsync(byHeaderRequest);
        await TestServer.WaitUntilAsync(async () => TestServer.Sample(await server.MetricsAsync(), "vivace_requests_in_flight") == 2,
            "both waiting requests are admitted");

        // Meanwhile: still 503 without waiting, the default model answers, and the server is healthy.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.PostAsync($"/models/{Second}", new { inputs = "again" })).Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.PostAsync($"/models/{Second}", new { inputs = "again", options = new { wait_for_model = false } },
            ("x-wait-for-model", "true"))).Status); // the body's switch wins over the header
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync($"/models/{TestServer.MiniLmId}", new { inputs = "default" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync("/embed", new { inputs = "default" })).Status);
        using (HttpResponseMessage health = await server.Client.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            JsonElement body = JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal([TestServer.MiniLmId], body.GetProperty("loaded").EnumerateArray().Select(e => e.GetString()));
        }
        Assert.False(byOption.IsCompleted || byHeader.IsCompleted, "a waiting request was answered before its model loaded");

        gate.Set();
        using HttpResponseMessage optionResponse = await byOption, headerResponse = await byHeader;
        Assert.Equal(HttpStatusCode.OK, optionResponse.StatusCode);
        Assert.Equal(384, JsonDocument.Parse(await optionResponse.Content.ReadAsStringAsync()).RootElement.GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, headerResponse.StatusCode);
        Assert.Equal(2, JsonDocument.Parse(await headerResponse.Content.ReadAsStringAsync()).RootElement.GetArrayLength());

        // Loaded: no waiting needed any more, and it loaded once for all those requests.
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync($"/models/{Second}", new { inputs = "now loaded" })).Status);
        Assert.Equal(1, loads);
        Assert.True(server.Registry.IsLoaded(Second));
        Assert.NotNull(TestServer.Sample(await server.MetricsAsync(), "vivace_model_load_seconds", ("model", Second)));
    }

    [Fact]
    public async Task AFailedLoadIsAnErrorAndTheNextRequestTriesAgain()
    {
        int attempts = 0;
        var flaky = new ModelSource(Second, () => Interlocked.Increment(ref attempts) == 1
            ? throw new IOException("disk hiccup")
            : TestServer.MiniLmAs(Second));
        await using TestServer server = await TestServer.StartAsync([ModelSource.Loaded(TestServer.MiniLm), flaky]);

        var (status, _, _) = await server.PostAsync($"/models/{Second}", new { inputs = "x", options = new { wait_for_model = true } });
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        (status, _, _) = await server.PostAsync($"/models/{Second}", new { inputs = "x", options = new { wait_for_model = true } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, attempts);
    }

    private static long WeightBytes(string directory) => Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
        .Where(f => f.EndsWith(".safetensors") || f.EndsWith(".onnx") || f.EndsWith(".onnx_data") || f.EndsWith(".gguf"))
        .Sum(f => new FileInfo(f).Length);

    [Fact]
    public async Task UnderAMemoryBudgetUsingAnotherModelUnloadsTheIdleOne()
    {
        const string a = "org/model-a", b = "org/model-b";
        long weights = WeightBytes(TestServer.MiniLm.Directory);
        Assert.True(weights > 0);
        var events = new List<(string Id, bool Loaded)>();
        await using TestServer server = await TestServer.StartAsync(
            [new ModelSource(a, () => TestServer.MiniLmAs(a)), new ModelSource(b, () => TestServer.MiniLmAs(b))],
            new ServerOptions { MemoryBudgetBytes = weights * 3 / 2 }); // room for one model, not two
        server.Registry.ModelEvent += (id, loadTime) => { lock (events) events.Add((id, loadTime != null)); };

        async Task UseAsync(string id)
        {
            var (status, body, _) = await server.PostAsync($"/models/{id}", new { inputs = $"use {id}", options = new { wait_for_model = true, use_cache = false } });
            Assert.True(status == HttpStatusCode.OK, body.ToString());
        }
        string[] Loaded() => server.Registry.Loaded.Select(m => m.Id).Order().ToArray();
        async Task<double?> LoadedGauge() => TestServer.Sample(await server.MetricsAsync(), "vivace_models_loaded");

        await UseAsync(a);
        Assert.Equal([a], Loaded());
        Assert.Equal(1, await LoadedGauge());

        await UseAsync(b); // loading b unloads a, idle and least recently used
        Assert.Equal([b], Loaded());
        Assert.Equal(1, await LoadedGauge());

        await UseAsync(a); // a loads again (and b goes)
        Assert.Equal([a], Loaded());
        Assert.Equal(1, await LoadedGauge());

        lock (events) Assert.Equal([(a, true), (b, true), (a, false), (a, true), (b, false)], events);
        string metrics = await server.MetricsAsync();
        Assert.NotNull(TestServer.Sample(metrics, "vivace_model_load_seconds", ("model", a)));
        Assert.NotNull(TestServer.Sample(metrics, "vivace_model_load_seconds", ("model", b)));
    }

    [Fact]
    public async Task ARequestWhoseModelIsUnloadedBeforeItQueuesLoadsItAgain()
    {
        const string a = "org/model-a", b = "org/model-b";
        var options = new ServerOptions { MemoryBudgetBytes = WeightBytes(TestServer.MiniLm.Directory) * 3 / 2 };
        using var registry = new ModelRegistry([new ModelSource(a, () => TestServer.MiniLmAs(a)), new ModelSource(b, () => TestServer.MiniLmAs(b))], options);

        // A request looks a up; before it queues, another request's load of b unloads a (idle: nothing queued yet).
        LoadedModel stale = await registry.GetAsync(a, wait: true, CancellationToken.None);
        await registry.GetAsync(b, wait: true, CancellationToken.None);
        Assert.False(registry.IsLoaded(a));

        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        EmbedResult result = await Embedding.RunAsync(http, new ServerContext(registry, options), stale,
            new EmbedInputs(["late to the queue"], null, true), EmbedOptions.Default);
        Assert.Equal(384, Assert.Single(result.Vectors).Length);
        Assert.True(registry.IsLoaded(a)); // loaded again for it
    }

    [Fact]
    public async Task AModelIsKnownByTheIdItIsServedUnderWhateverItsLoaderCallsIt()
    {
        // Two ids whose loaders both give the packaged model, under its own id.
        const string a = "org/alias-a", b = "org/alias-b";
        await using TestServer server = await TestServer.StartAsync(
            [new ModelSource(a, () => TestServer.MiniLm), new ModelSource(b, () => TestServer.MiniLm)],
            new ServerOptions { MemoryBudgetBytes = WeightBytes(TestServer.MiniLm.Directory) * 3 / 2 });
        foreach (string id in new[] { a, b, a, b })
        {
            var (status, body, _) = await server.PostAsync($"/models/{id}", new { inputs = "which one", options = new { wait_for_model = true } });
            Assert.True(status == HttpStatusCode.OK, $"{id}: {status} {body}");
            Assert.Equal([id], server.Registry.Loaded.Select(m => m.Id)); // the other was unloaded
        }
        string metrics = await server.MetricsAsync();
        Assert.NotNull(TestServer.Sample(metrics, "vivace_model_load_seconds", ("model", a)));
        Assert.NotNull(TestServer.Sample(metrics, "vivace_queue_depth", ("model", b)));
    }

    [Fact]
    public async Task UnderAMemoryBudgetABusyModelIsNotUnloaded()
    {
        const string a = "org/busy-a", b = "org/model-b";
        long weights = WeightBytes(TestServer.MiniLm.Directory);
        await using TestServer server = await TestServer.StartAsync(
            [ModelSource.Loaded(TestServer.MiniLmAs(a)), new ModelSource(b, () => TestServer.MiniLmAs(b))],
            new ServerOptions { MemoryBudgetBytes = weights * 3 / 2 });
        using var gate = new TestServer.WorkerGate(server.Registry);
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync($"/models/{a}", new { inputs = "first" })).Status);
        await gate.Held; // a's worker is held: the next request to a stays queued
        using HttpClient client = server.NewClient();
        Task<HttpResponseMessage> queued = client.PostAsync($"/models/{a}", TestServer.Json(new { inputs = "queued on a" }));
        await TestServer.WaitUntilAsync(() => server.Model(a).Queue!.Depth == 1, "a request is queued on a");

        var (status, _, _) = await server.PostAsync($"/models/{b}", new { inputs = "b", options = new { wait_for_model = true } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([a, b], server.Registry.Loaded.Select(m => m.Id).Order().ToArray()); // over budget, but a is busy

        gate.Release();
        using HttpResponseMessage done = await queued;
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
    }
}
