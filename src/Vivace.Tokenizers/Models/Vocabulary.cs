namespace Vivace.Tokenizers.Models;

/// <summary>
/// Token strings and ids, both ways. Lookups by span never allocate (<see cref="TokenTable"/>).
/// When a token appears twice, the later id wins for token -> id, as the reference loaders do.
/// </summary>
internal sealed class Vocabulary
{
    private readonly Dictionary<string, int> _ids;
    private readonly TokenTable _lookup;
    private readonly string?[] _tokens;

    public Vocabulary(IReadOnlyList<KeyValuePair<string, int>> entries)
    {
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int max = -1;
        foreach (var (token, id) in entries)
        {
            _ids[token] = id;
            if (id > max) max = id;
        }
        _tokens = new string?[max + 1];
        foreach (var (token, id) in entries)
            if (id >= 0) _tokens[id] ??= token;
        _lookup = new TokenTable(_ids);
    }

    public int Count => _ids.Count;

    /// <summary>One past the highest id.</summary>
    public int IdSpace => _tokens.Length;

    public IEnumerable<KeyValuePair<string, int>> Entries => _ids;

    public bool TryGetId(ReadOnlySpan<char> token, out int id) => _lookup.TryGetId(token, out id);

    public string? GetToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;
}
