using System.Diagnostics;
using Vivace.Models.SentenceTransformers;

namespace Vivace.Engine.Batching;

/// <summary>How a queue forms batches.</summary>
public sealed record BatchingOptions
{
    /// <summary>Tokens per batch at most (a single request larger than this still runs, alone).</summary>
    public int MaxBatchTokens { get; init; } = 16384;

    /// <summary>Requests per batch at most.</summary>
    public int MaxBatchRequests { get; init; } = 128;
}

/// <summary>A request's vectors and where its time went.</summary>
public sealed record EmbedResult(float[][] Vectors, TimeSpan QueueTime, TimeSpan InferenceTime, int Tokens);

/// <summary>One batch the worker ran: for metrics.</summary>
public readonly record struct BatchRun(int Requests, int Sequences, int Tokens, TimeSpan Duration);

/// <summary>
/// Dynamic batching for one model: requests (already tokenized) wait in one FIFO queue owned by one worker
/// thread, which takes as many as fit a token budget and a request cap, runs them as one ragged batch (no
/// padding compute, so a request's vectors do not depend on its batch-mates), normalizes each request's
/// vectors as it asked, and completes them. A request cancelled while it waits is dropped before it runs.
/// The CPU engine already spreads one batch over every core, so one worker per model is the right shape.
/// </summary>
public sealed class EmbeddingQueue : IDisposable
{
    private sealed class Item(IReadOnlyList<int[]> ids, bool normalize, CancellationToken cancellation)
    {
        public readonly IReadOnlyList<int[]> Ids = ids;
        public readonly bool Normalize = normalize;
        public readonly CancellationToken Cancellation = cancellation;
        public readonly int Tokens = ids.Sum(s => s.Length);
        public readonly long Enqueued = Stopwatch.GetTimestamp();
        public readonly TaskCompletionSource<EmbedResult> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly SentenceEmbedder _embedder;
    private readonly BatchingOptions _options;
    private readonly Queue<Item> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _worker;
    private int _pending;

    public EmbeddingQueue(SentenceEmbedder embedder, BatchingOptions? options = null)
    {
        _embedder = embedder;
        _options = options ?? new BatchingOptions();
        _worker = new Thread(Work) { IsBackground = true, Name = $"vivace-batch {embedder.ModelId}" };
        _worker.Start();
    }

    public SentenceEmbedder Embedder => _embedder;

    /// <summary>Requests waiting or running.</summary>
    public int Depth => Volatile.Read(ref _pending);

    /// <summary>Called on the worker after each batch.</summary>
    public event Action<BatchRun>? BatchCompleted;

    /// <summary>Queues token sequences (as the model's tokenizer makes them) and completes with one vector each;
    /// <paramref name="normalize"/> null: as the model says.</summary>
    public Task<EmbedResult> EmbedAsync(IReadOnlyList<int[]> ids, bool? normalize, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        _embedder.ValidateTokens(ids); // a bad request fails alone, never its batch
        var item = new Item(ids, normalize ?? _embedder.Model.Config.Normalize, cancellation);
        if (ids.Count == 0)
        {
            item.Done.SetResult(new EmbedResult([], TimeSpan.Zero, TimeSpan.Zero, 0));
            return item.Done.Task;
        }
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        Interlocked.Increment(ref _pending);
        lock (_queue) _queue.Enqueue(item);
        _signal.Release();
        return item.Done.Task;
    }

    private void Work()
    {
        var batch = new List<Item>();
        while (true)
        {
            try { _signal.Wait(_stop.Token); }
            catch (OperationCanceledException) { break; }
            while (TakeBatch(batch)) Run(batch);
        }
        // Stopped: nothing more runs; whoever still waits learns it.
        lock (_queue)
            while (_queue.TryDequeue(out Item? item)) Fail(item, new ObjectDisposedException(nameof(EmbeddingQueue)));
    }

    /// <summary>Moves the next batch out of the queue (FIFO, within the budgets; cancelled items are dropped).</summary>
    private bool TakeBatch(List<Item> batch)
    {
        batch.Clear();
        int tokens = 0;
        lock (_queue)
        {
            while (_queue.TryPeek(out Item? next))
            {
                if (next.Cancellation.IsCancellationRequested)
                {
                    _queue.Dequeue();
                    Fail(next, new OperationCanceledException(next.Cancellation));
                    continue;
                }
                if (batch.Count > 0 && (batch.Count >= _options.MaxBatchRequests || tokens + next.Tokens > _options.MaxBatchTokens)) break;
                batch.Add(_queue.Dequeue());
                tokens += next.Tokens;
            }
        }
        return batch.Count > 0;
    }

    private void Run(List<Item> batch)
    {
        long start = Stopwatch.GetTimestamp();
        var ids = new List<int[]>();
        foreach (Item item in batch) ids.AddRange(item.Ids);
        float[][] vectors;
        try
        {
            vectors = _embedder.EmbedTokens(ids, normalize: false);
        }
        catch (Exception e)
        {
            foreach (Item item in batch) Fail(item, e);
            return;
        }
        TimeSpan inference = Stopwatch.GetElapsedTime(start);
        int at = 0, tokens = 0;
        foreach (Item item in batch)
        {
            var mine = vectors[at..(at + item.Ids.Count)];
            at += item.Ids.Count;
            tokens += item.Tokens;
            if (item.Normalize) foreach (float[] v in mine) Pooling.Normalize(v);
            Interlocked.Decrement(ref _pending);
            item.Done.TrySetResult(new EmbedResult(mine, Stopwatch.GetElapsedTime(item.Enqueued, start), inference, item.Tokens));
        }
        BatchCompleted?.Invoke(new BatchRun(batch.Count, ids.Count, tokens, inference));
    }

    private void Fail(Item item, Exception e)
    {
        Interlocked.Decrement(ref _pending);
        if (e is OperationCanceledException oce) item.Done.TrySetCanceled(oce.CancellationToken);
        else item.Done.TrySetException(e);
    }

    /// <summary>Stops the worker after the batch it is running; requests still queued fail.</summary>
    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _worker.Join();
        _stop.Dispose();
    }
}
