using System.Diagnostics;
using System.Threading.Channels;
using Vivace.Engine.Generation;

namespace Vivace.Engine.Batching;

/// <summary>
/// One generation request in a <see cref="GenerationQueue"/>: its steps arrive on <see cref="Steps"/> as the worker
/// makes them; the reader ends with the worker's exception if the generation failed or was cancelled.
/// </summary>
public sealed class GenerationTicket
{
    internal GenerationTicket(ChannelReader<GenerationStep> steps, long enqueued)
    {
        Steps = steps;
        Enqueued = enqueued;
    }

    public ChannelReader<GenerationStep> Steps { get; }
    internal long Enqueued { get; }
    internal long Started;

    /// <summary>How long the request waited before the worker took it (zero until then).</summary>
    public TimeSpan QueueTime => Volatile.Read(ref Started) is long s and > 0 ? Stopwatch.GetElapsedTime(Enqueued, s) : TimeSpan.Zero;
}

/// <summary>
/// Text generation for one model: requests wait in one FIFO queue owned by one worker thread, which runs them one
/// after another (so a request's output never depends on the others; continuous batching comes later), writing each
/// step to the request's channel as it is made. The request is validated on the caller's thread (a bad request fails
/// alone, before it queues). Cancelling a request's token drops it while it waits, or stops its generation at the
/// next token while it runs; either way the worker moves on at once.
/// </summary>
public sealed class GenerationQueue : IDisposable
{
    private const int Queued = 0, Taken = 1, Dropped = 2;

    private sealed class Item
    {
        public Item(IEnumerable<GenerationStep> steps, CancellationTokenSource cancellation)
        {
            Steps = steps;
            Cancellation = cancellation;
            Ticket = new GenerationTicket(Output.Reader, Stopwatch.GetTimestamp());
        }

        public readonly IEnumerable<GenerationStep> Steps;
        public readonly CancellationTokenSource Cancellation;
        public readonly GenerationTicket Ticket;
        // Unbounded: the worker never waits for a slow reader (that would stall every request behind it); a request's
        // steps are bounded by its max_new_tokens anyway.
        public readonly Channel<GenerationStep> Output = Channel.CreateUnbounded<GenerationStep>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        /// <summary>Queued, then Taken by the worker or Dropped (cancelled, or the queue stopped): once.</summary>
        public int State = Queued;
    }

    private readonly TextGenerator _generator;
    private readonly Queue<Item> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _worker;
    private int _pending;
    private bool _closed;

    public GenerationQueue(TextGenerator generator)
    {
        _generator = generator;
        _worker = new Thread(Work) { IsBackground = true, Name = $"vivace-generate {generator.ModelId}" };
        _worker.Start();
    }

    public TextGenerator Generator => _generator;

    /// <summary>Requests waiting or running.</summary>
    public int Depth => Volatile.Read(ref _pending);

    /// <summary>Called on the worker after each generation that ran to its end.</summary>
    public event Action<GenerationResult>? Completed;

    /// <summary>
    /// Validates the request (throws <see cref="InvalidInputException"/> here, for anything the client got wrong) and
    /// queues it. Cancelling <paramref name="cancellation"/> (the client went away) drops or stops it.
    /// </summary>
    public GenerationTicket Enqueue(GenerationRequest request, CancellationToken cancellation = default)
    {
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _stop.Token);
        IEnumerable<GenerationStep> steps;
        try
        {
            steps = _generator.Stream(request, linked.Token); // validates now; runs when enumerated
        }
        catch
        {
            linked.Dispose();
            throw;
        }
        var item = new Item(steps, linked);
        lock (_queue)
        {
            // Under the lock the worker drains with when it stops: nothing is queued after that drain.
            if (_closed)
            {
                linked.Dispose();
                throw new ObjectDisposedException(nameof(GenerationQueue));
            }
            Interlocked.Increment(ref _pending);
            _queue.Enqueue(item);
            // Cancelled while queued: answered now, not when the worker reaches it (Drop takes no lock, so with a token
            // already cancelled it runs right here).
            linked.Token.Register(() => Drop(item, new OperationCanceledException(linked.Token)));
        }
        _signal.Release();
        return item.Ticket;
    }

    private void Work()
    {
        while (true)
        {
            try { _signal.Wait(_stop.Token); }
            catch (OperationCanceledException) { break; }
            while (Take() is { } item) Run(item);
        }
        lock (_queue)
        {
            _closed = true;
            while (_queue.TryDequeue(out Item? item)) Drop(item, new ObjectDisposedException(nameof(GenerationQueue)));
        }
    }

    /// <summary>The next queued item not already dropped, or null.</summary>
    private Item? Take()
    {
        lock (_queue)
        {
            while (_queue.TryDequeue(out Item? next))
                if (Interlocked.CompareExchange(ref next.State, Taken, Queued) == Queued) return next;
        }
        return null;
    }

    private void Run(Item item)
    {
        Volatile.Write(ref item.Ticket.Started, Stopwatch.GetTimestamp());
        ChannelWriter<GenerationStep> output = item.Output.Writer;
        GenerationResult? result = null;
        try
        {
            foreach (GenerationStep step in item.Steps)
            {
                output.TryWrite(step);
                result = step.Final ?? result;
            }
            output.TryComplete();
        }
        catch (Exception e)
        {
            // Cancelled (the client left, or the queue stops), or a fault of the model: the reader gets it.
            output.TryComplete(e);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
            item.Cancellation.Dispose();
        }
        if (result == null) return;
        try
        {
            Completed?.Invoke(result);
        }
        catch (Exception)
        {
            // A listener's fault must not stop the worker (every later request on this model would hang).
        }
    }

    /// <summary>Answers a queued item without running it (once: a no-op if the worker took it first).</summary>
    private void Drop(Item item, Exception e)
    {
        if (Interlocked.CompareExchange(ref item.State, Dropped, Queued) != Queued) return;
        Interlocked.Decrement(ref _pending);
        item.Output.Writer.TryComplete(e);
        // Unlinks it from the request's token and the queue's; not from inside its own callback.
        ThreadPool.QueueUserWorkItem(static c => c.Dispose(), item.Cancellation, preferLocal: false);
    }

    /// <summary>Stops the worker: the running generation is cancelled at its next token, queued requests fail.</summary>
    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _worker.Join();
    }
}
