using System.Diagnostics;
using System.Threading.Channels;
using Vivace.Models.Decoders;
using Vivace.Tensors;

namespace Vivace.Engine.Generation;

/// <summary>Limits of one continuous-batching pass.</summary>
/// <param name="MaxSequences">Sequences decoded together at most.</param>
/// <param name="MaxPassTokens">Tokens one pass runs at most (decode steps + prompts joining); a prompt longer than this
/// still runs, alone with the decode steps, so no request waits forever.</param>
public sealed record SchedulerOptions(int MaxSequences = 16, int MaxPassTokens = 2048);

/// <summary>What one pass did, for metrics.</summary>
public readonly record struct SchedulerPass(int Sequences, int PrefillTokens, int DecodeTokens, TimeSpan Duration);

/// <summary>
/// Continuous batching for one model: requests join the running batch between passes (their whole prompt runs in the
/// same pass as the others' decode steps) and leave it the moment they finish, so the weights are read once per pass
/// for every sequence in flight. Each sequence keeps its own KV cache and sampler, and a sequence's rows never mix with
/// another's (Linear rows are computed independently, bit for bit; attention is per cache), so a request's output does
/// not depend on its batch-mates. One worker thread runs the passes; a cancelled request leaves before the next pass.
/// </summary>
public sealed class GenerationScheduler : IDisposable
{
    private sealed class Entry(GenerationSequence sequence, Channel<GenerationStep> channel, GenerationTicket ticket,
        CancellationToken cancellation)
    {
        public GenerationSequence Sequence { get; } = sequence;
        public Channel<GenerationStep> Channel { get; } = channel;
        public GenerationTicket Ticket { get; } = ticket;
        public CancellationToken Cancellation { get; } = cancellation;
        /// <summary>Answered without running (cancelled while waiting): the worker skips it. Under the gate.</summary>
        public bool Dropped;
    }

    private readonly SchedulerOptions _options;
    private readonly Queue<Entry> _waiting = new();
    private readonly List<Entry> _running = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _worker;
    private volatile bool _stopping;

    public GenerationScheduler(TextGenerator generator, SchedulerOptions? options = null)
    {
        Generator = generator;
        _options = options ?? new SchedulerOptions();
        if (_options.MaxSequences < 1 || _options.MaxPassTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "a pass needs at least one sequence and one token");
        _worker = new Thread(Work) { IsBackground = true, Name = $"Vivace generation {generator.ModelId}" };
        _worker.Start();
    }

    public TextGenerator Generator { get; }

    /// <summary>Requests waiting to join the batch.</summary>
    public int Waiting { get { lock (_gate) return _waiting.Count; } }

    /// <summary>Sequences in the running batch.</summary>
    public int Running { get { lock (_gate) return _running.Count; } }

    /// <summary>Requests waiting or running.</summary>
    public int Depth { get { lock (_gate) return _running.Count + _waiting.Count(e => !e.Dropped); } }

    /// <summary>Called on the worker after each pass.</summary>
    public event Action<SchedulerPass>? PassCompleted;

    /// <summary>Called on the worker after each generation that ran to its end.</summary>
    public event Action<GenerationResult>? Completed;

    /// <summary>
    /// Validates <paramref name="request"/> (an <see cref="InvalidInputException"/> now, for anything a client got
    /// wrong) and queues it. The ticket's reader yields its steps as they are produced, the last one carrying the result,
    /// then completes. Cancelling <paramref name="cancellation"/> (the client went away) answers a waiting request at
    /// once and drops a running one before the next pass; either way the reader ends with an
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public GenerationTicket Enqueue(GenerationRequest request, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        var sequence = new GenerationSequence(Generator, Generator.Prepare(request));
        // Unbounded: the worker never waits for a slow reader (that would stall every sequence in the batch); a
        // request's steps are bounded by its max_new_tokens anyway.
        var channel = Channel.CreateUnbounded<GenerationStep>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var entry = new Entry(sequence, channel, new GenerationTicket(channel.Reader), cancellation);
        lock (_gate) _waiting.Enqueue(entry);
        _signal.Release();
        cancellation.Register(() =>
        {
            lock (_gate)
            {
                if (!_waiting.Contains(entry)) return; // running: the worker drops it before its next pass
                entry.Dropped = true;
            }
            channel.Writer.TryComplete(new OperationCanceledException(cancellation));
        });
        return entry.Ticket;
    }

    /// <summary>The steps of <see cref="Enqueue"/>'s request alone.</summary>
    public ChannelReader<GenerationStep> Submit(GenerationRequest request, CancellationToken cancellation = default) =>
        Enqueue(request, cancellation).Steps;

    /// <summary>Runs the request to the end and returns its result.</summary>
    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellation = default)
    {
        GenerationResult? result = null;
        await foreach (GenerationStep step in Submit(request, cancellation).ReadAllAsync(CancellationToken.None))
            result = step.Final ?? result;
        return result ?? throw new InvalidOperationException("generation ended without a result");
    }

    private void Work()
    {
        var parts = new List<CachePart>();
        var members = new List<Entry>();
        while (true)
        {
            bool idle;
            lock (_gate) idle = _running.Count == 0 && _waiting.Count == 0;
            if (idle)
            {
                if (_stopping) return;
                _signal.Wait();
                continue;
            }
            if (_stopping) { FailAll(new ObjectDisposedException(nameof(GenerationScheduler))); return; }

            int prefill = 0, decode = 0;
            parts.Clear();
            members.Clear();
            lock (_gate)
            {
                DropCancelled();
                foreach (Entry e in _running) { members.Add(e); decode++; }
                // Join waiting requests while the pass has room; the first always joins an empty pass.
                while (_waiting.Count > 0 && members.Count < _options.MaxSequences)
                {
                    Entry next = _waiting.Peek();
                    if (next.Dropped) { _waiting.Dequeue(); continue; }
                    int tokens = next.Sequence.NextTokens;
                    if (members.Count > 0 && decode + prefill + tokens > _options.MaxPassTokens) break;
                    _waiting.Dequeue();
                    _running.Add(next);
                    members.Add(next);
                    next.Ticket.MarkStarted();
                    prefill += tokens;
                }
            }
            if (members.Count == 0) continue;

            var clock = Stopwatch.StartNew();
            try
            {
                foreach (Entry e in members) parts.Add(e.Sequence.NextPart());
                Tensor logits = Generator.Model.ForwardParts(parts);
                int vocab = Generator.Model.VocabSize;
                for (int i = 0; i < members.Count; i++)
                {
                    Entry e = members[i];
                    GenerationStep step = e.Sequence.Advance(logits.AsSpan().Slice(i * vocab, vocab));
                    e.Channel.Writer.TryWrite(step);
                    if (step.Final is { } result)
                    {
                        Finish(e, null);
                        Completed?.Invoke(result);
                    }
                }
            }
            catch (Exception ex)
            {
                // A failure inside a pass cannot be pinned on one sequence: every sequence in it ends with the error.
                foreach (Entry e in members) Finish(e, ex);
            }
            PassCompleted?.Invoke(new SchedulerPass(members.Count, prefill, decode, clock.Elapsed));
        }
    }

    /// <summary>Removes requests whose client went away (under the gate).</summary>
    private void DropCancelled()
    {
        for (int i = _running.Count - 1; i >= 0; i--)
        {
            Entry e = _running[i];
            if (!e.Cancellation.IsCancellationRequested) continue;
            _running.RemoveAt(i);
            e.Channel.Writer.TryComplete(new OperationCanceledException(e.Cancellation));
        }
        int waiting = _waiting.Count;
        for (int i = 0; i < waiting; i++)
        {
            Entry e = _waiting.Dequeue();
            if (e.Dropped) continue;
            if (e.Cancellation.IsCancellationRequested) e.Channel.Writer.TryComplete(new OperationCanceledException(e.Cancellation));
            else _waiting.Enqueue(e);
        }
    }

    private void Finish(Entry e, Exception? error)
    {
        lock (_gate) _running.Remove(e);
        e.Channel.Writer.TryComplete(error);
    }

    private void FailAll(Exception error)
    {
        lock (_gate)
        {
            foreach (Entry e in _running) e.Channel.Writer.TryComplete(error);
            foreach (Entry e in _waiting) e.Channel.Writer.TryComplete(error);
            _running.Clear();
            _waiting.Clear();
        }
    }

    /// <summary>Stops the worker after its current pass; requests still queued or running end with an error.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _signal.Release();
        _worker.Join();
        _signal.Dispose();
    }
}
