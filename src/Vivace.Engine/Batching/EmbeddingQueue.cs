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
/// vectors as it asked, and completes them. A request cancelled while it waits leaves the queue at once (its
/// task is cancelled and the depth drops) and never runs.
/// The CPU engine already spreads one batch over every core, so one worker per model is the right shape.
/// </summary>
public sealed class EmbeddingQueue : IDisposable
{
    private const int Queued = 0, Taken = 1, Dropped = 2;

    private sealed class Item(IReadOnlyList<int[]> ids, bool normalize)
    {
        public readonly IReadOnlyList<int[]> Ids = ids;
        public readonly bool Normalize = normalize;
        public readonly int Tokens = ids.Sum(s => s.Length);
        public readonly long Enqueued = Stopwatch.GetTimestamp();
        public readonly TaskCompletionSource<EmbedResult> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>Queued, then Taken by the worker or Dropped (cancelled, or the queue stopped) — once.</summary>
        public int State = Queued;
        public CancellationTokenRegistration Cancellation;
    }

    private readonly SentenceEmbedder _embedder;
    private readonly BatchingOptions _options;
    private readonly Queue<Item> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _worker;
    private int _pending;
    private bool _closed;

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
        var item = new Item(ids, normalize ?? _embedder.Model.Config.Normalize);
        if (ids.Count == 0)
        {
            item.Done.SetResult(new EmbedResult([], TimeSpan.Zero, TimeSpan.Zero, 0));
            return item.Done.Task;
        }
        lock (_queue)
        {
            // Under the lock the worker drains with when it stops: nothing is queued after that drain.
            ObjectDisposedException.ThrowIf(_closed, this);
            Interlocked.Increment(ref _pending);
            _queue.Enqueue(item);
            // Cancelled while queued: the request leaves the depth and is answered now, not when the worker
            // reaches it (Drop takes no lock, so it may run right here if the token is already cancelled).
            item.Cancellation = cancellation.Register(() => Drop(item, new OperationCanceledException(cancellation)));
        }
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
        // Stopped: nothing more runs or is queued; whoever still waits learns it.
        lock (_queue)
        {
            _closed = true;
            while (_queue.TryDequeue(out Item? item)) Drop(item, new ObjectDisposedException(nameof(EmbeddingQueue)));
        }
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
                if (Volatile.Read(ref next.State) != Queued)
                {
                    _queue.Dequeue(); // dropped (cancelled) while it waited: already answered
                    continue;
                }
                if (batch.Count > 0 && (batch.Count >= _options.MaxBatchRequests || tokens + next.Tokens > _options.MaxBatchTokens)) break;
                _queue.Dequeue();
                if (Interlocked.CompareExchange(ref next.State, Taken, Queued) != Queued) continue;
                next.Cancellation.Dispose();
                batch.Add(next);
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

    /// <summary>Fails an item the worker took.</summary>
    private void Fail(Item item, Exception e)
    {
        Interlocked.Decrement(ref _pending);
        item.Done.TrySetException(e);
    }

    /// <summary>Answers a queued item without running it (once: a no-op if the worker took it first).</summary>
    private void Drop(Item item, Exception e)
    {
        if (Interlocked.CompareExchange(ref item.State, Dropped, Queued) != Queued) return;
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
