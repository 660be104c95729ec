using System.Diagnostics;
using System.Text.Json;
using Vivace.Cpu;
using Vivace.Engine;
using Vivace.Engine.Batching;
using Vivace.Engine.Generation;
using Vivace.Models.Decoders;
using Vivace.Tensors;

namespace Vivace.Server;

/// <summary>What a served model does: embeddings (and the tasks built on them), or text generation.</summary>
public enum ModelKind
{
    Embedding,
    Generation,
}

/// <summary>A model this server may serve: its id and how to load it (or the model itself, already loaded). A source
/// loads a <see cref="SentenceEmbedder"/>, or (made with a <see cref="TextGenerator"/> loader) a generator.</summary>
public sealed record ModelSource(string Id, Func<SentenceEmbedder> Load)
{
    /// <summary>A text-generation model.</summary>
    public ModelSource(string id, Func<TextGenerator> loadGenerator)
        : this(id, NotAnEmbedder(id))
    {
        LoadGenerator = loadGenerator;
    }

    private static Func<SentenceEmbedder> NotAnEmbedder(string id) => () => throw new InvalidOperationException($"{id} is a text-generation model");

    public static ModelSource Loaded(SentenceEmbedder embedder) => new(embedder.ModelId, () => embedder) { Preloaded = embedder };

    public static ModelSource Loaded(TextGenerator generator, string? directory = null) =>
        new(generator.ModelId, () => generator) { PreloadedGenerator = generator, Directory = directory };

    /// <summary>Loads the model by id or directory: a decoder (<see cref="CausalLMLoader.IsDecoder"/>: an HF decoder,
    /// a fused GPT-2 ONNX export or a llama2.c checkpoint) as a <see cref="TextGenerator"/>, anything else as <see cref="SentenceEmbedder.Load"/> does.</summary>
    /// <remarks><paramref name="ops"/>: the backend the model loads onto (default <see cref="CpuOps.Default"/>; a quantizing
    /// CpuOps for <c>--quantize</c>).</remarks>
    public static ModelSource FromId(string idOrDirectory, ITensorOps? ops = null)
    {
        if (!ModelResolver.IsLocalPath(idOrDirectory)) return new(idOrDirectory, () => SentenceEmbedder.Load(idOrDirectory, ops));
        string directory = Path.GetFullPath(idOrDirectory);
        string id = File.Exists(directory) ? Path.GetFileNameWithoutExtension(directory) : Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        return CausalLMLoader.IsDecoder(directory)
            ? new(id, () => TextGenerator.Load(directory, ops ?? CpuOps.Default, id)) { Directory = directory }
            : new(id, () => SentenceEmbedder.Load(idOrDirectory, ops));
    }

    public Func<TextGenerator>? LoadGenerator { get; private init; }
    public ModelKind Kind => LoadGenerator != null ? ModelKind.Generation : ModelKind.Embedding;
    /// <summary>Where a generator's weights are (for the memory budget); embedders know their own directory.</summary>
    public string? Directory { get; init; }
    internal SentenceEmbedder? Preloaded { get; init; }
    internal TextGenerator? PreloadedGenerator { get; init; }
}

/// <summary>A loaded model: an embedder with its batching queue, or a generator with its generation queue, and what
/// the registry tracks about it.</summary>
public sealed class LoadedModel
{
    internal LoadedModel(string id, SentenceEmbedder embedder, EmbeddingQueue queue, long weightBytes)
    {
        Id = id;
        Embedder = embedder;
        Queue = queue;
        Tokenizer = embedder.Tokenizer;
        WeightBytes = weightBytes;
    }

    internal LoadedModel(string id, TextGenerator generator, GenerationScheduler scheduler, long weightBytes)
    {
        Id = id;
        Generator = generator;
        Scheduler = scheduler;
        Tokenizer = generator.Tokenizer;
        WeightBytes = weightBytes;
    }

    /// <summary>The id the server serves it under (its source's; the model may call itself otherwise).</summary>
    public string Id { get; }
    public ModelKind Kind => Generator != null ? ModelKind.Generation : ModelKind.Embedding;
    /// <summary>The embedding model; null for a generation model.</summary>
    public SentenceEmbedder? Embedder { get; }
    /// <summary>The embedder's batching queue; null for a generation model.</summary>
    public EmbeddingQueue? Queue { get; }
    /// <summary>The generation model; null for an embedding model.</summary>
    public TextGenerator? Generator { get; }
    public GenerationScheduler? Scheduler { get; }
    public Vivace.Tokenizers.Tokenizer Tokenizer { get; }
    public long WeightBytes { get; }
    /// <summary>Requests waiting or running on this model.</summary>
    public int Depth => Queue?.Depth ?? Scheduler!.Depth;
    internal long LastUsed;

    /// <summary>The embedder, or a 400 naming what this model does for a route that embeds.</summary>
    public SentenceEmbedder RequireEmbedder() => Embedder ?? throw ApiException.BadRequest(
        $"model '{Id}' is a text-generation model; this route needs an embedding model (use /generate, /v1/completions " +
        "or the text-generation task)", "model");

    /// <summary>The generator, or a 400 naming what this model does for a route that generates.</summary>
    public TextGenerator RequireGenerator() => Generator ?? throw ApiException.BadRequest(
        $"model '{Id}' is an embedding model; this route needs a text-generation model (use /embed, /v1/embeddings " +
        "or the feature-extraction task)", "model");

    internal void Stop()
    {
        Queue?.Dispose();
        Scheduler?.Dispose();
    }
}

/// <summary>
/// The models of one server, by id. A model loads on first use (in the background: a request that does not
/// wait gets 503 with the estimated time, as the HF Inference API answers); each loaded model has one batching
/// queue. With a memory budget, loading a model unloads the least recently used idle ones until the weights
/// of those left fit.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private readonly ServerOptions _options;
    private readonly List<ModelSource> _sources;
    private readonly Dictionary<string, LoadedModel> _loaded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Task<LoadedModel> Task, long Started)> _loading = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> _loadTimes = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private bool _disposed;

    public ModelRegistry(IEnumerable<ModelSource> sources, ServerOptions? options = null)
    {
        _options = options ?? new ServerOptions();
        _sources = sources.ToList();
        if (_sources.Count == 0) throw new ArgumentException("a server needs at least one model");
        foreach (ModelSource s in _sources)
        {
            if (s.Preloaded is { } e) _loaded[s.Id] = Wrap(s.Id, e);
            else if (s.PreloadedGenerator is { } g) _loaded[s.Id] = Wrap(s, g);
        }
    }

    /// <summary>Called when a model finished loading (id, duration) or was unloaded (id, null).</summary>
    public event Action<string, TimeSpan?>? ModelEvent;

    /// <summary>Called after each batch of any model.</summary>
    public event Action<string, BatchRun>? BatchCompleted;

    /// <summary>Called after each generation that ran to its end, on any model.</summary>
    public event Action<string, GenerationResult>? GenerationCompleted;

    /// <summary>Called after each continuous-batching pass of any generation model.</summary>
    public event Action<string, SchedulerPass>? GenerationPassCompleted;

    /// <summary>What the model an id names does (known before it loads: 404 for an unknown id).</summary>
    public ModelKind KindOf(string? id)
    {
        string resolved = Resolve(id);
        return _sources.First(s => s.Id == resolved).Kind;
    }

    public IReadOnlyList<string> Ids => _sources.Select(s => s.Id).ToList();
    public string DefaultId => _sources[0].Id;

    public IReadOnlyList<LoadedModel> Loaded
    {
        get { lock (_gate) return _loaded.Values.ToList(); }
    }

    /// <summary>The configured id <paramref name="id"/> names: exact (case-insensitive), or by its last path
    /// segment (org/name matches name). 404 otherwise.</summary>
    public string Resolve(string? id)
    {
        if (string.IsNullOrEmpty(id)) return DefaultId;
        foreach (ModelSource s in _sources) if (string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase)) return s.Id;
        string last = id.Split('/')[^1];
        foreach (ModelSource s in _sources) if (string.Equals(s.Id.Split('/')[^1], last, StringComparison.OrdinalIgnoreCase)) return s.Id;
        throw ApiException.NotFound($"model '{id}' is not served here (served: {string.Join(", ", Ids)})", "model");
    }

    /// <summary>The loaded model, loading it first if needed: with <paramref name="wait"/> the call waits for the
    /// load, else it throws a 503 with the estimated time while the load goes on.</summary>
    public async Task<LoadedModel> GetAsync(string? id, bool wait, CancellationToken cancellation)
    {
        string resolved = Resolve(id);
        Task<LoadedModel> load;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_loaded.TryGetValue(resolved, out LoadedModel? model))
            {
                Volatile.Write(ref model.LastUsed, Stopwatch.GetTimestamp());
                return model;
            }
            if (!_loading.TryGetValue(resolved, out var pending))
            {
                pending = (Task.Run(() => LoadAndAdd(resolved)), Stopwatch.GetTimestamp());
                _loading[resolved] = pending;
            }
            if (!wait)
            {
                TimeSpan estimate = _loadTimes.GetValueOrDefault(resolved, _options.DefaultLoadEstimate);
                double left = Math.Max(1, (estimate - Stopwatch.GetElapsedTime(pending.Started)).TotalSeconds);
                throw ApiException.Loading(resolved, left);
            }
            load = pending.Task;
        }
        LoadedModel loaded = await load.WaitAsync(cancellation);
        Volatile.Write(ref loaded.LastUsed, Stopwatch.GetTimestamp());
        return loaded;
    }

    /// <summary>Starts loading a model without waiting (the server does this for its first model at start).</summary>
    public void Preload(string? id)
    {
        try { _ = GetAsync(id, wait: false, CancellationToken.None); }
        catch (ApiException) { } // loading
    }

    /// <summary>Whether the model is loaded now.</summary>
    public bool IsLoaded(string id)
    {
        lock (_gate) return _loaded.ContainsKey(id);
    }

    private LoadedModel LoadAndAdd(string id)
    {
        var clock = Stopwatch.StartNew();
        LoadedModel model;
        try
        {
            ModelSource source = _sources.First(s => s.Id == id);
            model = source.LoadGenerator is { } generator ? Wrap(source, generator()) : Wrap(id, source.Load());
        }
        catch
        {
            lock (_gate) _loading.Remove(id); // the next request tries again
            throw;
        }
        List<LoadedModel> evicted;
        lock (_gate)
        {
            _loading.Remove(id);
            _loadTimes[id] = clock.Elapsed;
            model.LastUsed = Stopwatch.GetTimestamp();
            _loaded[id] = model;
            evicted = Evict(keep: id);
        }
        ModelEvent?.Invoke(id, clock.Elapsed);
        foreach (LoadedModel e in evicted)
        {
            e.Stop();
            ModelEvent?.Invoke(e.Id, null);
        }
        return model;
    }

    /// <summary>Least recently used idle models to unload so the weights left fit the budget (under the gate).</summary>
    private List<LoadedModel> Evict(string keep)
    {
        var evicted = new List<LoadedModel>();
        if (_options.MemoryBudgetBytes is not long budget) return evicted;
        long total = _loaded.Values.Sum(m => m.WeightBytes);
        foreach (LoadedModel m in _loaded.Values.OrderBy(m => m.LastUsed).ToList())
        {
            if (total <= budget) break;
            if (m.Id == keep || m.Depth > 0) continue;
            _loaded.Remove(m.Id);
            total -= m.WeightBytes;
            evicted.Add(m);
        }
        return evicted;
    }

    private LoadedModel Wrap(string id, SentenceEmbedder embedder)
    {
        var queue = new EmbeddingQueue(embedder, _options.Batching);
        queue.BatchCompleted += run => BatchCompleted?.Invoke(id, run);
        return new LoadedModel(id, embedder, queue, WeightBytes(embedder.Directory));
    }

    private LoadedModel Wrap(ModelSource source, TextGenerator generator)
    {
        var scheduler = new GenerationScheduler(generator, _options.Generation);
        scheduler.Completed += result => GenerationCompleted?.Invoke(source.Id, result);
        scheduler.PassCompleted += pass => GenerationPassCompleted?.Invoke(source.Id, pass);
        return new LoadedModel(source.Id, generator, scheduler, source.Directory is { } d ? WeightBytes(d) : 0);
    }

    /// <summary>Bytes of the weight files in a model directory (what loading maps into memory).</summary>
    private static long WeightBytes(string directory)
    {
        if (File.Exists(directory)) return Length(new FileInfo(directory)); // a single-file checkpoint (GGUF, llama2.c)
        if (!Directory.Exists(directory)) return 0;
        return Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".onnx", StringComparison.Ordinal)
                || f.EndsWith(".onnx_data", StringComparison.Ordinal) || f.EndsWith(".gguf", StringComparison.Ordinal))
            .Sum(f => Length(new FileInfo(f)));
    }

    /// <summary>A file's length, through a symbolic link to what it points at.</summary>
    private static long Length(FileInfo file)
    {
        try
        {
            return file.LinkTarget != null && file.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target ? target.Length : file.Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Stops every queue (after the batch each is running).</summary>
    public void Dispose()
    {
        List<LoadedModel> models;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            models = _loaded.Values.ToList();
            _loaded.Clear();
        }
        foreach (LoadedModel m in models) m.Stop();
    }
}
