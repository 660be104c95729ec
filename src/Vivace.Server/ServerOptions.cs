using Vivace.Engine.Batching;
using Vivace.Engine.Generation;

namespace Vivace.Server;

/// <summary>How the server listens, what it accepts, and how it batches, caches and protects itself.</summary>
public sealed record ServerOptions
{
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Inputs in one request at most (413 beyond).</summary>
    public int MaxInputsPerRequest { get; init; } = 1024;

    /// <summary>Request body size at most (413 beyond).</summary>
    public long MaxRequestBodyBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Inference requests admitted at once (queued or running); beyond it, 429.</summary>
    public int MaxConcurrentRequests { get; init; } = 512;

    /// <summary>Bearer tokens accepted on inference routes; empty: no authentication.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    /// <summary>Weight bytes of loaded models at most; the least recently used idle model is unloaded beyond it.</summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>Result cache: entries and bytes at most (0 entries: off).</summary>
    public int CacheEntries { get; init; } = 4096;
    public long CacheBytes { get; init; } = 64L * 1024 * 1024;

    public BatchingOptions Batching { get; init; } = new();

    /// <summary>Continuous batching of generation: sequences decoded together and tokens per pass at most.</summary>
    public SchedulerOptions Generation { get; init; } = new();

    /// <summary>What a 503 says a model load takes before any load of it was timed.</summary>
    public TimeSpan DefaultLoadEstimate { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Logs as JSON lines (one object per event) instead of plain text.</summary>
    public bool JsonLogs { get; init; }

    /// <summary>How long shutdown waits for in-flight requests.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
