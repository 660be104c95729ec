using System.Net;
using System.Text.Json;

namespace Vivace.Server.Tests;

/// <summary>Admission: beyond <see cref="ServerOptions.MaxConcurrentRequests"/> inference requests at once, 429.</summary>
public class AdmissionTests
{
    private const string Route = $"/models/{TestServer.MiniLmId}";

    [Fact]
    public async Task BeyondTheLimitRequestsGet429AndTheAdmittedOnesFinish()
    {
        const int limit = 2, requests = 64;
        await using TestServer server = await TestServer.StartAsync(new ServerOptions { MaxConcurrentRequests = limit });
        using var gate = new TestServer.WorkerGate(server.Registry);

        // A first request runs; the model's worker is then held, so admitted requests cannot finish until released.
        var (status, _, _) = await server.PostAsync(Route, new { inputs = "warm up" });
        Assert.Equal(HttpStatusCode.OK, status);
        await gate.Held;
        await TestServer.WaitUntilAsync(async () => TestServer.Sample(await server.MetricsAsync(), "vivace_requests_in_flight") == 0,
            "the first request left admission");

        // 64 concurrent heavy requests (64 long inputs each): exactly the limit are admitted, the rest are turned away.
        using HttpClient client = server.NewClient();
        var sent = Enumerable.Range(0, requests).Select(async i =>
        {
            using HttpResponseMessage r = await client.PostAsync(Route, TestServer.Json(new { inputs = TestServer.LongInputs(64, 10, salt: $"r{i}") }));
            return (r.StatusCode, Body: await r.Content.ReadAsStringAsync());
        }).ToList();
        await TestServer.WaitUntilAsync(() => sent.Count(t => t.IsCompleted) >= requests - limit, "all but the admitted requests were answered");
        var early = sent.Where(t => t.IsCompleted).Select(t => t.Result).ToList();
        Assert.Equal(requests - limit, early.Count);
        foreach (var (code, body) in early)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, code);
            JsonElement error = JsonDocument.Parse(body).RootElement;
            Assert.Equal("Overloaded", error.GetProperty("error_type").GetString());
            Assert.Contains($"{limit} concurrent requests", error.GetProperty("error").GetString());
        }
        Assert.Equal(limit, TestServer.Sample(await server.MetricsAsync(), "vivace_requests_in_flight"));

        // Released: the admitted ones complete with every vector.
        gate.Release();
        var all = await Task.WhenAll(sent);
        var admitted = all.Where(r => r.StatusCode != HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(limit, admitted.Count);
        foreach (var (code, body) in admitted)
        {
            Assert.True(code == HttpStatusCode.OK, $"{code}: {body}");
            JsonElement vectors = JsonDocument.Parse(body).RootElement;
            Assert.Equal(64, vectors.GetArrayLength());
            Assert.All(vectors.EnumerateArray(), v => Assert.Equal(384, v.GetArrayLength()));
        }

        // And the server answers normally afterwards — once the admitted two have left admission: a client can read its
        // whole response a moment before the server's pipeline returns and frees the slot (a request sent in that moment
        // would rightly be turned away; seen on a loaded 2-core CI machine).
        await TestServer.WaitUntilAsync(async () => TestServer.Sample(await server.MetricsAsync(), "vivace_requests_in_flight") == 0,
            "the admitted requests left admission");
        (status, JsonElement after, _) = await server.PostAsync(Route, new { inputs = "after the storm" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(384, after.GetArrayLength());
        await server.ExpectSampleAsync("vivace_requests_total", requests - limit, ("route", "/models/{**modelId}"), ("status", "429"));
        await server.ExpectSampleAsync("vivace_requests_in_flight", 0);
    }

    [Fact]
    public async Task HealthAndMetricsAnswerWhileInferenceIsFull()
    {
        await using TestServer server = await TestServer.StartAsync(new ServerOptions { MaxConcurrentRequests = 1 });
        using var gate = new TestServer.WorkerGate(server.Registry);
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync(Route, new { inputs = "warm up" })).Status);
        await gate.Held;
        await TestServer.WaitUntilAsync(async () => TestServer.Sample(await server.MetricsAsync(), "vivace_requests_in_flight") == 0, "admission is empty");

        using HttpClient client = server.NewClient();
        Task<HttpResponseMessage> held = client.PostAsync(Route, TestServer.Json(new { inputs = "holds the only slot" }));
        await TestServer.WaitUntilAsync(() => server.Model(TestServer.MiniLmId).Queue!.Depth == 1, "the request is queued");

        Assert.Equal(HttpStatusCode.TooManyRequests, (await server.PostAsync("/embed", new { inputs = "no room" })).Status);
        using (HttpResponseMessage health = await server.Client.GetAsync("/health")) Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using (HttpResponseMessage metrics = await server.Client.GetAsync("/metrics")) Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);

        gate.Release();
        using HttpResponseMessage done = await held;
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
    }
}
