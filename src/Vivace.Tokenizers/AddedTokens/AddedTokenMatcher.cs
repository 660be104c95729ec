using System.Buffers;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.AddedTokens;

/// <summary>A match of an added token: [Start, End) includes whitespace taken by lstrip/rstrip.</summary>
internal readonly record struct AddedMatch(int Start, int End, AddedToken Token);

/// <summary>
/// Finds added tokens in text, leftmost-longest, honouring single_word, lstrip and rstrip.
/// Positions that cannot start a token are skipped with a vectorized search over the first characters.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;
    private readonly SearchValues<char> _firstChars;

    /// <param name="tokens">The tokens with the pattern to look for (their content, or its normalized form).</param>
    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        _byFirstChar = tokens.Where(t => t.Pattern.Length > 0)
            .GroupBy(t => t.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Pattern.Length).ToArray());
        _firstChars = SearchValues.Create(_byFirstChar.Keys.ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    public void FindAll(ReadOnlySpan<char> text, List<AddedMatch> output)
    {
        int pos = 0, lastEnd = 0;
        while (pos < text.Length)
        {
            int rel = text[pos..].IndexOfAny(_firstChars);
            if (rel < 0) break;
            int at = pos + rel;
            var hit = LongestAt(text, at);
            if (hit is not { } m) { pos = at + 1; continue; }
            int start = at, end = at + m.Pattern.Length;
            var token = m.Token;
            if (token.SingleWord && !(IsBoundary(text, start - 1) && IsBoundary(text, end)))
            {
                pos = at + 1;
                continue;
            }
            if (token.LStrip)
                while (start > lastEnd && CharClass.IsWhitespace(text[start - 1])) start--;
            if (token.RStrip)
                while (end < text.Length && CharClass.IsWhitespace(text[end])) end++;
            output.Add(new AddedMatch(start, end, token));
            pos = lastEnd = end;
        }
    }

    private (string Pattern, AddedToken Token)? LongestAt(ReadOnlySpan<char> text, int at)
    {
        foreach (var candidate in _byFirstChar[text[at]])
            if (text[at..].StartsWith(candidate.Pattern, StringComparison.Ordinal)) return candidate;
        return null;
    }

    /// <summary>True when position <paramref name="i"/> is outside the text or not a word character.</summary>
    private static bool IsBoundary(ReadOnlySpan<char> text, int i) =>
        i < 0 || i >= text.Length || !(char.IsLetterOrDigit(text[i]) || text[i] == '_');
}
