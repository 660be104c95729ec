namespace Vivace.Tokenizers.Models;

/// <summary>
/// WordPiece: greedy longest-match-first from the start of the word; pieces after the first carry the
/// continuing-subword prefix ("##"). A word longer than <c>max_input_chars_per_word</c> code points, or one
/// where some position has no matching piece, becomes the single unknown token.
/// Continuation pieces are looked up in a second table keyed without the prefix, so no candidate string is
/// ever built.
/// </summary>
internal sealed class WordPiece : IModel
{
    private readonly Vocabulary _vocab;
    private readonly TokenTable _continuations;
    private readonly int _maxFirst, _maxContinuation;

    /// <summary>Words that split into several pieces (their search costs a lookup per candidate length), by text.
    /// Bounded; a whole-vocabulary word needs one lookup and is never cached.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ModelToken[]> _splitWords = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ModelToken[]>.AlternateLookup<ReadOnlySpan<char>> _splitLookup;
    private const int MaxCachedWords = 50_000, MaxCachedWordLength = 64;

    public WordPiece(Vocabulary vocab, string unkToken, string continuingSubwordPrefix = "##", int maxInputCharsPerWord = 100)
    {
        _vocab = vocab;
        UnkToken = unkToken;
        Prefix = continuingSubwordPrefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
        if (!vocab.TryGetId(unkToken, out int unk))
            throw new InvalidDataException($"WordPiece unk_token '{unkToken}' is not in the vocabulary.");
        UnkId = unk;

        var cont = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in vocab.Entries)
        {
            if (Prefix.Length > 0 && token.StartsWith(Prefix, StringComparison.Ordinal) && token.Length > Prefix.Length)
            {
                string rest = token[Prefix.Length..];
                cont[rest] = id;
                _maxContinuation = Math.Max(_maxContinuation, rest.Length);
            }
            _maxFirst = Math.Max(_maxFirst, token.Length);
        }
        if (Prefix.Length == 0)
        {
            foreach (var (token, id) in vocab.Entries) cont[token] = id;
            _maxContinuation = _maxFirst;
        }
        _continuations = new TokenTable(cont);
        _splitLookup = _splitWords.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string UnkToken { get; }
    public int UnkId { get; }
    public string Prefix { get; }
    public int MaxInputCharsPerWord { get; }
    public Vocabulary Vocabulary => _vocab;

    public int VocabSize => _vocab.Count;

    public int? TokenToId(ReadOnlySpan<char> token) => _vocab.TryGetId(token, out int id) ? id : null;

    public string? IdToToken(int id) => _vocab.GetToken(id);

    /// <summary>The id of a word that is one vocabulary entry (what most words of real text are), or false:
    /// the ids-only path's shortcut past <see cref="Tokenize"/>.</summary>
    public bool TryWholeWord(ReadOnlySpan<char> word, out int id)
    {
        id = -1;
        return word.Length <= _maxFirst && word.Length <= MaxInputCharsPerWord && _vocab.TryGetId(word, out id);
    }

    public void Tokenize(ReadOnlySpan<char> word, List<ModelToken> output)
    {
        int n = word.Length;
        if (n == 0) return;
        if (n > MaxInputCharsPerWord && CodePointCount(word) > MaxInputCharsPerWord)
        {
            output.Add(new ModelToken(UnkId, 0, n));
            return;
        }

        if (n <= _maxFirst && _vocab.TryGetId(word, out int whole))
        {
            output.Add(new ModelToken(whole, 0, n));
            return;
        }
        bool cacheable = n <= MaxCachedWordLength;
        if (cacheable && _splitLookup.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }

        int mark = output.Count;
        SplitIntoPieces(word, output, mark);
        if (cacheable && _splitWords.Count < MaxCachedWords)
            _splitLookup.TryAdd(word, output.GetRange(mark, output.Count - mark).ToArray());
    }

    /// <summary>Greedy longest-match-first over <paramref name="word"/>; the whole word becomes unk when a position has no piece.</summary>
    private void SplitIntoPieces(ReadOnlySpan<char> word, List<ModelToken> output, int mark)
    {
        int n = word.Length;
        int start = 0;
        while (start < n)
        {
            bool first = start == 0;
            int end = Math.Min(n, start + (first ? _maxFirst : _maxContinuation));
            int found = -1;
            for (; end > start; end--)
            {
                // Never cut a surrogate pair.
                if (end < n && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])) continue;
                var candidate = word[start..end];
                if (first ? _vocab.TryGetId(candidate, out found) : _continuations.TryGetId(candidate, out found)) break;
                found = -1;
            }
            if (found < 0)
            {
                output.RemoveRange(mark, output.Count - mark);
                output.Add(new ModelToken(UnkId, 0, n));
                return;
            }
            output.Add(new ModelToken(found, start, end));
            start = end;
        }
    }

    private static int CodePointCount(ReadOnlySpan<char> s)
    {
        int count = s.Length;
        for (int i = 1; i < s.Length; i++)
            if (char.IsLowSurrogate(s[i]) && char.IsHighSurrogate(s[i - 1])) count--;
        return count;
    }
}
