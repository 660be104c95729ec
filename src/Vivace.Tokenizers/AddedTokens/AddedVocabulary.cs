using System.Text.Json;

namespace Vivace.Tokenizers.AddedTokens;

/// <summary>
/// The added tokens: looked up by id and content, and split out of the input. Tokens with
/// normalized = false are matched in the raw text, before normalization; the others in the normalized text.
/// </summary>
internal sealed class AddedVocabulary
{
    private readonly Dictionary<int, AddedToken> _byId = new();
    private readonly Dictionary<string, AddedToken> _byContent = new(StringComparer.Ordinal);

    public AddedVocabulary(IReadOnlyList<AddedToken> tokens, Func<string, string>? normalize)
    {
        Tokens = tokens;
        foreach (var t in tokens)
        {
            _byId[t.Id] = t;
            _byContent[t.Content] = t;
        }
        Raw = new AddedTokenMatcher(tokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        Normalized = new AddedTokenMatcher(tokens.Where(t => t.Normalized).Select(t => (normalize?.Invoke(t.Content) ?? t.Content, t)));
    }

    public IReadOnlyList<AddedToken> Tokens { get; }

    /// <summary>Matches in the raw text (tokens with normalized = false).</summary>
    public AddedTokenMatcher Raw { get; }

    /// <summary>Matches in the normalized text (tokens with normalized = true; patterns normalized too).</summary>
    public AddedTokenMatcher Normalized { get; }

    public AddedToken? ById(int id) => _byId.GetValueOrDefault(id);

    public AddedToken? ByContent(string content) => _byContent.GetValueOrDefault(content);

    public static List<AddedToken> ParseJson(JsonElement e)
    {
        var list = new List<AddedToken>();
        if (JsonRead.IsNull(e)) return list;
        foreach (var t in e.EnumerateArray())
        {
            bool special = JsonRead.Bool(t, "special", false);
            list.Add(new AddedToken(
                t.GetProperty("id").GetInt32(),
                t.GetProperty("content").GetString()!,
                special,
                JsonRead.Bool(t, "single_word", false),
                JsonRead.Bool(t, "lstrip", false),
                JsonRead.Bool(t, "rstrip", false),
                JsonRead.Bool(t, "normalized", !special)));
        }
        return list;
    }
}
