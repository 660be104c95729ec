using Vivace.Engine;

namespace Vivace.Server;

/// <summary>The models this server answers for, by id; each runs one request at a time.</summary>
public sealed class ServedModels
{
    private readonly List<ServedModel> _models = [];

    public ServedModels(IEnumerable<SentenceEmbedder> embedders)
    {
        foreach (SentenceEmbedder e in embedders) _models.Add(new ServedModel(e));
        if (_models.Count == 0) throw new ArgumentException("a server needs at least one model");
    }

    public IReadOnlyList<ServedModel> All => _models;
    public ServedModel Default => _models[0];

    /// <summary>The model with this id (or this last path segment of an id such as org/name).</summary>
    public ServedModel Find(string id) =>
        _models.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase))
        ?? _models.FirstOrDefault(m => string.Equals(m.Id.Split('/')[^1], id.Split('/')[^1], StringComparison.OrdinalIgnoreCase))
        ?? throw ApiException.NotFound($"model '{id}' is not served here (served: {string.Join(", ", _models.Select(m => m.Id))})");
}

/// <summary>One served model. The CPU engine already uses every core for one batch, so requests take turns.</summary>
public sealed class ServedModel(SentenceEmbedder embedder)
{
    private readonly SemaphoreSlim _turn = new(1, 1);

    public string Id => Embedder.ModelId;
    public SentenceEmbedder Embedder { get; } = embedder;

    public async Task<float[][]> EmbedAsync(IReadOnlyList<string> inputs, EmbedOptions options, CancellationToken cancellation)
    {
        await _turn.WaitAsync(cancellation);
        try
        {
            return Embedder.Embed(inputs, options, cancellation);
        }
        finally
        {
            _turn.Release();
        }
    }
}
