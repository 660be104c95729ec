using Vivace.Engine.Batching;

namespace Vivace.Engine.Tests;

public class EmbeddingQueueTests(MiniLmFixture fixture) : IClassFixture<MiniLmFixture>
{
    private SentenceEmbedder Embedder => fixture.Embedder;

    private static readonly string[] Texts =
    [
        "short", "a somewhat longer sentence with more tokens in it", "Über café naïve — 東京 🙂", "x",
        "The quick brown fox jumps over the lazy dog.", "Sentence embeddings map text to vectors.",
    ];

    [Fact]
    public async Task Concurrent_requests_are_batched_and_each_equals_its_result_alone()
    {
        using var queue = new EmbeddingQueue(Embedder, new BatchingOptions { MaxBatchTokens = 64, MaxBatchRequests = 4 });
        var batches = new List<BatchRun>();
        queue.BatchCompleted += b => { lock (batches) batches.Add(b); };
        var requests = Enumerable.Range(0, 40).Select(i =>
        {
            string[] inputs = i % 3 == 0 ? [Texts[i % Texts.Length], Texts[(i + 1) % Texts.Length]] : [Texts[i % Texts.Length]];
            bool? normalize = i % 2 == 0 ? null : false;
            var ids = inputs.Select(t => Embedder.TokenizeIds(t)).ToArray();
            return (inputs, normalize, task: queue.EmbedAsync(ids, normalize));
        }).ToList();
        await Task.WhenAll(requests.Select(r => r.task));

        Assert.Contains(batches, b => b.Requests > 1); // requests really shared batches
        Assert.All(batches, b => Assert.True(b.Requests <= 4));
        foreach (var (inputs, normalize, task) in requests)
        {
            float[][] alone = Embedder.Embed(inputs, new EmbedOptions { Normalize = normalize });
            EmbedResult result = task.Result;
            for (int i = 0; i < inputs.Length; i++)
                for (int j = 0; j < alone[i].Length; j++)
                    Assert.True(Math.Abs(alone[i][j] - result.Vectors[i][j]) <= 1e-6,
                        $"'{inputs[i]}' dim {j}: {alone[i][j]} alone vs {result.Vectors[i][j]} batched");
        }
        Assert.Equal(0, queue.Depth);
    }

    [Fact]
    public async Task A_request_cancelled_while_queued_never_runs_and_the_others_do()
    {
        using var queue = new EmbeddingQueue(Embedder, new BatchingOptions { MaxBatchRequests = 1 });
        int sequencesRun = 0;
        queue.BatchCompleted += b => Interlocked.Add(ref sequencesRun, b.Sequences);
        var ids = new[] { Embedder.TokenizeIds(string.Join(' ', Enumerable.Repeat("long", 200))) };
        var first = queue.EmbedAsync(ids, null);            // keeps the worker busy
        using var cancel = new CancellationTokenSource();
        var cancelled = queue.EmbedAsync(ids, null, cancel.Token);
        var last = queue.EmbedAsync(ids, null);
        cancel.Cancel();
        await first;
        await last;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        // BatchCompleted follows the batch's answers: wait for the last one before counting.
        SpinWait.SpinUntil(() => Volatile.Read(ref sequencesRun) >= 2, TimeSpan.FromMinutes(1));
        Assert.Equal(2, sequencesRun);
        Assert.Equal(0, queue.Depth);
    }

    [Fact]
    public async Task A_request_cancelled_while_queued_is_answered_at_once_and_leaves_the_depth()
    {
        using var queue = new EmbeddingQueue(Embedder);
        using var release = new ManualResetEventSlim();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int batches = 0, sequencesAfter = 0, holding = 0;
        queue.BatchCompleted += b =>
        {
            if (Interlocked.Increment(ref batches) > 1) { Interlocked.Add(ref sequencesAfter, b.Sequences); return; }
            Volatile.Write(ref holding, 1);
            held.SetResult();
            release.Wait(TimeSpan.FromMinutes(1)); // the worker stays here: what is queued next stays queued
            Volatile.Write(ref holding, 0);
        };
        int[] ids = Embedder.TokenizeIds("queued");
        await queue.EmbedAsync([ids], null);
        await held.Task;

        using var cancel = new CancellationTokenSource();
        var cancelled = queue.EmbedAsync([ids, ids, ids], null, cancel.Token);
        Assert.Equal(1, queue.Depth);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True(Volatile.Read(ref holding) == 1, "the cancelled request was answered only when the worker moved on");
        Assert.Equal(0, queue.Depth);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.EmbedAsync([ids], null, cancel.Token)); // already cancelled
        Assert.Equal(0, queue.Depth);

        release.Set();
        Assert.Single((await queue.EmbedAsync([ids], null)).Vectors);
        // BatchCompleted follows the batch's answers: wait for it before counting.
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref sequencesAfter) >= 1, TimeSpan.FromMinutes(1)));
        Assert.Equal(1, sequencesAfter); // the cancelled requests never ran
        Assert.Equal(0, queue.Depth);
    }

    [Fact]
    public async Task A_stopped_queue_refuses_new_requests()
    {
        var queue = new EmbeddingQueue(Embedder);
        Assert.Single((await queue.EmbedAsync([Embedder.TokenizeIds("before")], null)).Vectors);
        queue.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { _ = queue.EmbedAsync([Embedder.TokenizeIds("after")], null); });
        Assert.Equal(0, queue.Depth);
    }

    [Fact]
    public async Task A_bad_request_fails_alone_at_submission()
    {
        using var queue = new EmbeddingQueue(Embedder);
        var good = queue.EmbedAsync([Embedder.TokenizeIds("fine")], null);
        // Thrown synchronously by EmbedAsync itself, before anything is queued.
        Assert.Throws<InvalidInputException>(() => { _ = queue.EmbedAsync([[101, 999_999, 102]], null); });
        Assert.Throws<InvalidInputException>(() => { _ = queue.EmbedAsync([new int[Embedder.MaxInputTokens + 1]], null); });
        Assert.Single((await good).Vectors);
    }

    [Fact]
    public void Prompts_are_prepended_and_unknown_prompt_names_rejected()
    {
        var e = Assert.Throws<InvalidInputException>(() => Embedder.TokenizeIds("text", new EmbedOptions { PromptName = "query" }));
        Assert.Contains("query", e.Message);
    }
}
