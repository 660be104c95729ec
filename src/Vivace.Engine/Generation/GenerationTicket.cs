using System.Diagnostics;
using System.Threading.Channels;

namespace Vivace.Engine.Generation;

/// <summary>
/// One request queued on a <see cref="GenerationScheduler"/>: its steps arrive on <see cref="Steps"/> as the worker
/// makes them; the reader ends with an exception if the generation failed or was cancelled.
/// </summary>
public sealed class GenerationTicket
{
    private readonly long _enqueued = Stopwatch.GetTimestamp();
    private long _started;

    internal GenerationTicket(ChannelReader<GenerationStep> steps) => Steps = steps;

    public ChannelReader<GenerationStep> Steps { get; }

    /// <summary>How long the request waited before it joined the running batch (zero until then).</summary>
    public TimeSpan QueueTime => Volatile.Read(ref _started) is long s and > 0 ? Stopwatch.GetElapsedTime(_enqueued, s) : TimeSpan.Zero;

    internal void MarkStarted() => Volatile.Write(ref _started, Stopwatch.GetTimestamp());
}
