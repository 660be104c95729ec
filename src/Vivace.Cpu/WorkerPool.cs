using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Vivace.Cpu;

/// <summary>The body of a parallel loop: an unmanaged struct (raw pointers and sizes), so a call allocates nothing.</summary>
public interface IParallelWork
{
    void Execute(int index);
}

/// <summary>
/// Persistent worker threads for short parallel loops. Workers spin briefly after each job (the next op
/// usually follows within microseconds), then block. The calling thread takes items too; items are handed
/// out one at a time through an atomic counter, so uneven items balance themselves.
/// A call made while the pool is busy (another thread, or a nested loop) runs inline on its caller.
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>
    /// Spin iterations (each <c>Thread.SpinWait(8)</c>, measured ~0.4 µs on Zen) before a worker blocks: ~0.4 ms, far
    /// longer than the gap between two ops of a forward pass, short enough not to burn a core between requests.
    /// </summary>
    private const int SpinIterations = 1000;

    private readonly Thread[] _workers;
    private readonly ManualResetEventSlim[] _wake;
    /// <summary>1 while a loop owns the workers. Not a Monitor: that is re-entrant, and a nested loop on the
    /// owning thread would overwrite the running job.</summary>
    private int _busy;
    private delegate*<void*, int, void> _body;
    private void* _state;
    private int _count;
    private int _next;
    /// <summary>Bit 0: the current job still admits workers. Bits 1..: workers inside it.</summary>
    private int _entry;
    private int _generation;
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _failure;

    /// <param name="threadCount">Threads working on a loop, the calling thread included.</param>
    public WorkerPool(int threadCount)
    {
        if (threadCount < 1) throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "thread count must be at least 1");
        ThreadCount = threadCount;
        _workers = new Thread[threadCount - 1];
        _wake = new ManualResetEventSlim[threadCount - 1];
        for (int w = 0; w < _workers.Length; w++)
        {
            _wake[w] = new ManualResetEventSlim(false, spinCount: 1);
            int id = w;
            _workers[w] = new Thread(() => WorkerLoop(id)) { IsBackground = true, Name = $"Vivace.Cpu worker {w + 1}" };
            _workers[w].Start();
        }
    }

    public int ThreadCount { get; }

    /// <summary>Runs <c>work.Execute(i)</c> for every i in [0, count), on all threads; returns when all are done.</summary>
    public void For<TWork>(int count, in TWork work) where TWork : unmanaged, IParallelWork
    {
        if (count <= 0) return;
        TWork copy = work;
        if (count == 1 || _workers.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++) copy.Execute(i);
            return;
        }
        try
        {
            _body = &Invoke<TWork>;
            _state = &copy;
            _count = count;
            _next = 0;
            _failure = null;
            Volatile.Write(ref _entry, 1);
            Interlocked.Increment(ref _generation);
            for (int w = 0; w < _wake.Length; w++) _wake[w].Set();
            RunItems();
            // Close the job, then wait only for workers already inside it (a worker still waking up will find it
            // closed and never touch the state on this stack).
            Interlocked.And(ref _entry, ~1);
            var spin = new SpinWait();
            while (Volatile.Read(ref _entry) != 0) spin.SpinOnce(sleep1Threshold: -1);
            _failure?.Throw();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private static void Invoke<TWork>(void* state, int index) where TWork : unmanaged, IParallelWork =>
        ((TWork*)state)->Execute(index);

    private void RunItems()
    {
        int count = _count;
        var body = _body;
        void* state = _state;
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < count)
        {
            try { body(state, i); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null); }
        }
    }

    private void WorkerLoop(int id)
    {
        int seen = Volatile.Read(ref _generation);
        ManualResetEventSlim wake = _wake[id];
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen)
            {
                if (_disposed) return;
                if (++spins < SpinIterations) Thread.SpinWait(8);
                else
                {
                    // Reset before re-checking the generation: a job published after the check sets the event again.
                    wake.Wait();
                    wake.Reset();
                    spins = 0;
                }
            }
            seen = Volatile.Read(ref _generation);
            if (TryEnterJob())
            {
                RunItems();
                Interlocked.Add(ref _entry, -2);
            }
        }
    }

    private bool TryEnterJob()
    {
        while (true)
        {
            int entry = Volatile.Read(ref _entry);
            if ((entry & 1) == 0) return false;
            if (Interlocked.CompareExchange(ref _entry, entry + 2, entry) == entry) return true;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var e in _wake) e.Set();
    }
}
