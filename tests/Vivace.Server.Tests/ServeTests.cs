using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Vivace.Server.Tests;

/// <summary><c>vivace serve</c> as a real process: its flags and environment, its logs, and a graceful SIGTERM.</summary>
public class ServeTests
{
    [Fact]
    public async Task ApiKeysFromTheFlagAndTheEnvironmentJsonLogsAndMetrics()
    {
        using ServeProcess serve = await ServeProcess.StartAsync(["--api-key", "flag-key", "--json-logs"],
            new Dictionary<string, string> { ["VIVACE_API_KEYS"] = "env-one, env-two" });
        using HttpClient client = serve.NewClient();

        int sent = 0;
        async Task<HttpStatusCode> EmbedAsync(string? key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/embed") { Content = TestServer.Json("""{"inputs": "through the CLI"}""") };
            if (key != null) request.Headers.Add("Authorization", $"Bearer {key}");
            request.Headers.Add("x-request-id", $"cli-request-{++sent}");
            using HttpResponseMessage response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await EmbedAsync(null));
        Assert.Equal(HttpStatusCode.Unauthorized, await EmbedAsync("wrong"));
        Assert.Equal(HttpStatusCode.OK, await EmbedAsync("flag-key"));
        Assert.Equal(HttpStatusCode.OK, await EmbedAsync("env-one"));
        Assert.Equal(HttpStatusCode.OK, await EmbedAsync("env-two"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);

        // /metrics is open, and the default model's load (at start) is in it.
        Func<Task<string>> scrape = () => client.GetStringAsync("/metrics");
        await TestServer.ExpectSampleAsync(scrape, "vivace_requests_total", 3, ("route", "/embed"), ("status", "200"));
        await TestServer.ExpectSampleAsync(scrape, "vivace_requests_total", 2, ("route", "/embed"), ("status", "401"));
        string metrics = await scrape();
        Assert.True(TestServer.Sample(metrics, "vivace_model_load_seconds", ("model", TestServer.MiniLmId)) > 0, metrics);
        Assert.Equal(1, TestServer.Sample(metrics, "vivace_models_loaded"));

        // --json-logs: the request log lines are JSON objects carrying the request id.
        await TestServer.WaitUntilAsync(() => serve.Output.Contains("cli-request-5"), "the last request was logged");
        string line = serve.Output.Split('\n').Single(l => l.Contains("cli-request-5"));
        JsonElement log = JsonDocument.Parse(line).RootElement;
        Assert.Equal("Vivace.Requests", log.GetProperty("Category").GetString());
        Assert.Equal("cli-request-5", log.GetProperty("State").GetProperty("RequestId").GetString());
        Assert.Equal(200, log.GetProperty("State").GetProperty("Status").GetInt32());
        Assert.DoesNotContain("flag-key", serve.Output); // keys are never logged
        Assert.DoesNotContain("env-one", serve.Output);

        serve.Terminate();
        Assert.Equal(0, await serve.WaitForExitAsync());
    }

    /// <summary>A JSON body sent in two parts: the head at once, then (while held) JSON whitespace at a steady
    /// trickle so the server's minimum body rate is met, then the tail once released.</summary>
    private sealed class HeldBody(string head, string tail, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(head));
            await stream.FlushAsync();
            byte[] spaces = Encoding.UTF8.GetBytes(new string(' ', 256));
            while (!release.IsCompleted)
            {
                await Task.WhenAny(release, Task.Delay(100));
                await stream.WriteAsync(spaces);
                await stream.FlushAsync();
            }
            await stream.WriteAsync(Encoding.UTF8.GetBytes(tail));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    private static async Task<bool> RefusesConnectionsAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }

    [Fact]
    public async Task SigtermFinishesTheRequestInFlightRefusesNewConnectionsAndExitsZero()
    {
        using ServeProcess serve = await ServeProcess.StartAsync();
        string[] inputs = TestServer.LongInputs(512, 12, salt: "shutdown");

        // The request: 512 inputs, its body held open so it is in flight for as long as the test needs.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string json = JsonSerializer.Serialize(new { inputs, truncate = true });
        int cut = json.IndexOf("\",\"", json.Length / 2, StringComparison.Ordinal) + 2; // right after a comma between two inputs
        using HttpClient client = serve.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/embed") { Content = new HeldBody(json[..cut], json[cut..], release.Task) };
        request.Content.Headers.ContentType = new("application/json");
        Task<HttpResponseMessage> inFlight = client.SendAsync(request);
        using (HttpClient probe = serve.NewClient())
            await TestServer.WaitUntilAsync(async () => TestServer.Sample(await probe.GetStringAsync("/metrics"), "vivace_requests_in_flight") == 1,
                "the request is admitted");

        serve.Terminate();

        // The listener closes at once; the process waits for the request, which only the test can finish.
        await TestServer.WaitUntilAsync(() => RefusesConnectionsAsync(serve.Port), "new connections are refused");
        Assert.False(inFlight.IsCompleted, "the in-flight request was answered before its body was complete");

        release.SetResult();
        using HttpResponseMessage response = await inFlight;
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}\n{serve.Output}");
        JsonElement vectors = JsonDocument.Parse(body).RootElement;
        Assert.Equal(512, vectors.GetArrayLength());
        Assert.All(vectors.EnumerateArray(), v => Assert.Equal(384, v.GetArrayLength()));

        Assert.Equal(0, await serve.WaitForExitAsync());
        Assert.Contains("Application is shutting down", serve.Output);
        Assert.True(await RefusesConnectionsAsync(serve.Port));
    }
}
