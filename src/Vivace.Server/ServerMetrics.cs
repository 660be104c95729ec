using Prometheus;
using Vivace.Engine.Batching;

namespace Vivace.Server;

/// <summary>
/// The server's Prometheus metrics (prometheus-net), in a registry of its own so several servers in one process
/// stay apart: requests by route and status, latency, queue depth, batch sizes, tokens, model loads.
/// </summary>
public sealed class ServerMetrics
{
    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public Counter Requests { get; }
    public Histogram RequestSeconds { get; }
    public Histogram QueueSeconds { get; }
    public Histogram BatchRequests { get; }
    public Histogram BatchTokens { get; }
    public Counter Tokens { get; }
    public Gauge QueueDepth { get; }
    public Gauge ModelLoadSeconds { get; }
    public Gauge ModelsLoaded { get; }
    public Counter CacheLookups { get; }
    public Gauge InFlight { get; }

    public ServerMetrics()
    {
        var f = Metrics.WithCustomRegistry(Registry);
        Requests = f.CreateCounter("vivace_requests_total", "HTTP requests by route and status code.", "route", "status");
        RequestSeconds = f.CreateHistogram("vivace_request_duration_seconds", "HTTP request latency by route.",
            new HistogramConfiguration { LabelNames = ["route"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 18) });
        QueueSeconds = f.CreateHistogram("vivace_queue_seconds", "Time inference requests waited in a model's batching queue.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 20) });
        BatchRequests = f.CreateHistogram("vivace_batch_requests", "Requests per batch.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(1, 2, 9) });
        BatchTokens = f.CreateHistogram("vivace_batch_tokens", "Tokens per batch.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(8, 2, 13) });
        Tokens = f.CreateCounter("vivace_tokens_total", "Tokens processed by the models.", "model");
        QueueDepth = f.CreateGauge("vivace_queue_depth", "Requests waiting or running in a model's batching queue.", "model");
        ModelLoadSeconds = f.CreateGauge("vivace_model_load_seconds", "How long the last load of a model took.", "model");
        ModelsLoaded = f.CreateGauge("vivace_models_loaded", "Models loaded now.");
        CacheLookups = f.CreateCounter("vivace_cache_lookups_total", "Result cache lookups by outcome.", "result");
        InFlight = f.CreateGauge("vivace_requests_in_flight", "Inference requests admitted and not yet answered.");
    }

    /// <summary>Follows a registry's loads, unloads and batches.</summary>
    public void Observe(ModelRegistry registry)
    {
        registry.ModelEvent += (id, loadTime) =>
        {
            if (loadTime is TimeSpan t) ModelLoadSeconds.WithLabels(id).Set(t.TotalSeconds);
            ModelsLoaded.Set(registry.Loaded.Count);
        };
        registry.BatchCompleted += (id, run) =>
        {
            BatchRequests.WithLabels(id).Observe(run.Requests);
            BatchTokens.WithLabels(id).Observe(run.Tokens);
            Tokens.WithLabels(id).Inc(run.Tokens);
        };
        ModelsLoaded.Set(registry.Loaded.Count);
        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (LoadedModel m in registry.Loaded) QueueDepth.WithLabels(m.Id).Set(m.Queue.Depth);
        });
    }

    public Task WriteAsync(Stream output, CancellationToken cancellation) => Registry.CollectAndExportAsTextAsync(output, cancellation);
}
