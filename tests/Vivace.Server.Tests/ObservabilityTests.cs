using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Vivace.Server.Tests;

/// <summary>What operators see: the request id, the timing headers of inference responses, and /metrics.</summary>
public class ObservabilityTests
{
    private static readonly string[] TimingHeaders =
        ["x-compute-time", "x-compute-characters", "x-compute-tokens", "x-queue-time", "x-inference-time", "x-tokenization-time"];

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? Assert.Single(values) : throw new Xunit.Sdk.XunitException($"no {name} header");

    [Fact]
    public async Task TheRequestIdIsEchoedOrGenerated()
    {
        await using TestServer server = await TestServer.StartAsync();
        var cases = new (string Method, string Path, string? Body, HttpStatusCode Status)[]
        {
            ("POST", "/embed", """{"inputs": "id"}""", HttpStatusCode.OK),
            ("POST", $"/models/{TestServer.MiniLmId}", """{"inputs": "id"}""", HttpStatusCode.OK),
            ("POST", "/embed", """{"inputs": ""}""", HttpStatusCode.UnprocessableEntity),
            ("POST", "/embed", "{not json", HttpStatusCode.UnprocessableEntity),
            ("POST", "/models/org/unknown", """{"inputs": "id"}""", HttpStatusCode.NotFound),
            ("GET", "/health", null, HttpStatusCode.OK),
            ("GET", "/metrics", null, HttpStatusCode.OK),
        };
        var generated = new HashSet<string>();
        foreach (var (method, path, body, status) in cases)
        {
            foreach (string? given in new[] { "client-id-123", null })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (body != null) request.Content = TestServer.Json(body);
                if (given != null) request.Headers.Add("x-request-id", given);
                using HttpResponseMessage response = await server.Client.SendAsync(request);
                Assert.Equal(status, response.StatusCode);
                string id = Header(response, "x-request-id");
                if (given != null) Assert.Equal(given, id);
                else
                {
                    Assert.Matches("^[0-9a-f]{32}$", id);
                    Assert.True(generated.Add(id), $"id {id} generated twice");
                }
            }
        }

        // An absurdly long id is not echoed; a new one is made.
        using var longId = new HttpRequestMessage(HttpMethod.Get, "/health");
        longId.Headers.Add("x-request-id", new string('x', 1000));
        using HttpResponseMessage replaced = await server.Client.SendAsync(longId);
        Assert.Matches("^[0-9a-f]{32}$", Header(replaced, "x-request-id"));
    }

    [Fact]
    public async Task InferenceResponsesCarryNumericTimingHeaders()
    {
        await using TestServer server = await TestServer.StartAsync();
        string[] texts = ["timing headers", "are numbers"];
        var requests = new (string Path, object Body)[]
        {
            ("/embed", new { inputs = texts }),
            ($"/models/{TestServer.MiniLmId}", new { inputs = texts }),
            ($"/pipeline/sentence-similarity/{TestServer.MiniLmId}", new { inputs = new { source_sentence = texts[0], sentences = new[] { texts[1] } } }),
        };
        foreach (var (path, body) in requests)
        {
            var (status, _, response) = await server.PostAsync(path, body);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("cpu", Header(response, "x-compute-type"));
            foreach (string name in TimingHeaders)
            {
                string value = Header(response, name);
                Assert.True(double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) && number >= 0 && double.IsFinite(number),
                    $"{path}: {name} is '{value}'");
            }
            Assert.Equal(texts.Sum(t => t.Length), int.Parse(Header(response, "x-compute-characters"), CultureInfo.InvariantCulture));
            int tokens = int.Parse(Header(response, "x-compute-tokens"), CultureInfo.InvariantCulture);
            Assert.Equal(texts.Sum(t => TestServer.MiniLm.TokenizeIds(t).Length), tokens);
            Assert.Equal("miss", Header(response, "x-cache"));
        }
    }

    [Fact]
    public async Task MetricsCountRequestsBatchesTokensAndLoads()
    {
        const string lazy = "org/lazy-model";
        await using TestServer server = await TestServer.StartAsync(
            [ModelSource.Loaded(TestServer.MiniLm), new ModelSource(lazy, () => TestServer.MiniLmAs(lazy))]);
        int tokens = 0;
        for (int i = 0; i < 3; i++)
        {
            var (status, _, response) = await server.PostAsync("/embed", new { inputs = new[] { $"metrics {i}", "second input" } });
            Assert.Equal(HttpStatusCode.OK, status);
            tokens += int.Parse(Header(response, "x-compute-tokens"), CultureInfo.InvariantCulture);
        }
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync($"/models/{TestServer.MiniLmId}", new { inputs = "hf" })).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await server.PostAsync("/embed", new { inputs = "" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync($"/models/{lazy}", new { inputs = "lazy", options = new { wait_for_model = true } })).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/health")).StatusCode);
        tokens += TestServer.MiniLm.TokenizeIds("hf").Length;

        string model = TestServer.MiniLmId;
        // Request metrics count as a request ends, batch metrics after the batch answers: each is awaited, not raced.
        await server.ExpectSampleAsync("vivace_requests_total", 3, ("route", "/embed"), ("status", "200"));
        await server.ExpectSampleAsync("vivace_requests_total", 1, ("route", "/embed"), ("status", "422"));
        await server.ExpectSampleAsync("vivace_requests_total", 2, ("route", "/models/{**modelId}"), ("status", "200"));
        await server.ExpectSampleAsync("vivace_requests_total", 1, ("route", "/health"), ("status", "200"));
        await server.ExpectSampleAsync("vivace_request_duration_seconds_count", 4, ("route", "/embed"));
        await server.ExpectSampleAsync("vivace_request_duration_seconds_bucket", 4, ("route", "/embed"), ("le", "+Inf"));
        await server.ExpectSampleAsync("vivace_batch_requests_sum", 4, ("model", model)); // every request ran in some batch
        await server.ExpectSampleAsync("vivace_tokens_total", tokens, ("model", model));
        await server.ExpectSampleAsync("vivace_batch_tokens_sum", tokens, ("model", model));
        await server.ExpectSampleAsync("vivace_requests_in_flight", 0);

        HttpResponseMessage scrape = await server.Client.GetAsync("/metrics");
        Assert.Equal("text/plain", scrape.Content.Headers.ContentType?.MediaType);
        string metrics = await scrape.Content.ReadAsStringAsync();
        Assert.True(TestServer.Sample(metrics, "vivace_request_duration_seconds_sum", ("route", "/embed")) > 0);
        Assert.Equal(0, TestServer.Sample(metrics, "vivace_queue_depth", ("model", model)));
        Assert.Equal(0, TestServer.Sample(metrics, "vivace_queue_depth", ("model", lazy)));
        Assert.True(TestServer.Sample(metrics, "vivace_batch_requests_count", ("model", model)) >= 1);
        Assert.True(TestServer.Sample(metrics, "vivace_model_load_seconds", ("model", lazy)) >= 0);
        Assert.Equal(2, TestServer.Sample(metrics, "vivace_models_loaded"));
        Assert.Equal(4, TestServer.Sample(metrics, "vivace_queue_seconds_count", ("model", model)));
        Assert.Equal(6, TestServer.Sample(metrics, "vivace_cache_lookups_total", ("result", "miss")));
        foreach (string name in new[] { "vivace_requests_total", "vivace_request_duration_seconds", "vivace_queue_depth", "vivace_batch_requests",
                     "vivace_tokens_total", "vivace_model_load_seconds" })
            Assert.Contains($"# TYPE {name} ", metrics);
    }
}
