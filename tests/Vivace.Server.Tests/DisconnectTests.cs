using System.Collections.Concurrent;
using System.Net;
using Vivace.Engine.Batching;

namespace Vivace.Server.Tests;

/// <summary>A client that goes away while its request waits in the batching queue: the request leaves the queue
/// (and admission) at once and its sequences never run.</summary>
public class DisconnectTests
{
    [Fact]
    public async Task AClientDisconnectDropsItsQueuedWork()
    {
        await using TestServer server = await TestServer.StartAsync(new ServerOptions { MaxConcurrentRequests = 1 });
        var runs = new ConcurrentQueue<BatchRun>();
        server.Registry.BatchCompleted += (_, run) => runs.Enqueue(run);
        using var gate = new TestServer.WorkerGate(server.Registry);
        LoadedModel model = server.Model(TestServer.MiniLmId);

        // A slow batch: long inputs; the worker is held after it, standing for a batch that runs on and on.
        var (status, _, _) = await server.PostAsync("/embed", new { inputs = TestServer.LongInputs(16, 24), truncate = true });
        Assert.Equal(HttpStatusCode.OK, status);
        await gate.Held;
        await TestServer.WaitUntilAsync(async () => TestServer.Sample(await server.MetricsAsync(), "vivace_requests_in_flight") == 0, "admission is empty");

        // The doomed request: 7 sequences of token ids, a shape no other request here has.
        int[][] doomed = Enumerable.Range(0, 7).Select(i => new[] { 101 }.Concat(Enumerable.Repeat(7592, 20 + i)).Append(102).ToArray()).ToArray();
        using (HttpClient client = server.NewClient())
        using (var cancel = new CancellationTokenSource())
        {
            Task<HttpResponseMessage> call = client.PostAsync("/embed", TestServer.Json(new { inputs = doomed }), cancel.Token);
            await TestServer.WaitUntilAsync(() => model.Queue!.Depth == 1, "the request is queued");
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        }

        // The server notices the disconnect: the queue empties and the admission slot frees while the worker is still held.
        await TestServer.WaitUntilAsync(() => model.Queue!.Depth == 0, "the cancelled request left the queue");
        await TestServer.WaitUntilAsync(async () =>
        {
            string m = await server.MetricsAsync();
            return TestServer.Sample(m, "vivace_requests_in_flight") == 0
                && TestServer.Sample(m, "vivace_requests_total", ("route", "/embed"), ("status", "499")) == 1;
        }, "the request was recorded as closed by the client (499)");
        Assert.Equal(16, Assert.Single(runs).Sequences); // only the slow batch has run: the worker is still held
        double tokensBefore = TestServer.Sample(await server.MetricsAsync(), "vivace_tokens_total", ("model", TestServer.MiniLmId))!.Value;

        // Released: the next request runs; the doomed one never does.
        int runsBefore = runs.Count;
        gate.Release();
        var (after, vectors, response) = await server.PostAsync("/embed", new { inputs = "after the disconnect" });
        Assert.Equal(HttpStatusCode.OK, after);
        Assert.Equal(1, vectors.GetArrayLength());
        int afterTokens = int.Parse(response.Headers.GetValues("x-compute-tokens").Single());
        // BatchCompleted follows a batch's answers: wait for the one batch of that request, then check nothing else ran.
        await TestServer.WaitUntilAsync(() => runs.Count > runsBefore, "the last batch was reported");
        await server.ExpectSampleAsync("vivace_tokens_total", tokensBefore + afterTokens, ("model", TestServer.MiniLmId));
        BatchRun only = Assert.Single(runs.Skip(runsBefore));
        Assert.Equal((1, 1, afterTokens), (only.Requests, only.Sequences, only.Tokens));
        Assert.Equal(0, model.Queue!.Depth);
    }
}
