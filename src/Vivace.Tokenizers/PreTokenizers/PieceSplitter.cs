namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>What happens to the delimiters when a piece is split (the reference's SplitDelimiterBehavior).</summary>
internal enum DelimiterBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>
/// The reference's split of a piece into matches and gaps under a delimiter behavior, for regex matches (Split)
/// and for code points a predicate accepts (Punctuation, Digits, Metaspace, CharDelimiterSplit) alike.
/// </summary>
internal static class PieceSplitter
{
    public static DelimiterBehavior Parse(string? s, DelimiterBehavior fallback) => s switch
    {
        null => fallback,
        "Removed" => DelimiterBehavior.Removed,
        "Isolated" => DelimiterBehavior.Isolated,
        "MergedWithPrevious" => DelimiterBehavior.MergedWithPrevious,
        "MergedWithNext" => DelimiterBehavior.MergedWithNext,
        "Contiguous" => DelimiterBehavior.Contiguous,
        _ => throw new UnsupportedComponentException("split behavior", s),
    };

    [ThreadStatic] private static List<(int, int)>? t_matches;
    [ThreadStatic] private static List<(int Start, int End, bool Match)>? t_parts;
    [ThreadStatic] private static List<(int Start, int End, bool Match)>? t_all;

    /// <summary>Splits at every code point <paramref name="isDelimiter"/> accepts, each one a match of its own
    /// (as the reference's char patterns find them), then applies <paramref name="behavior"/>.</summary>
    public static void Split(ReadOnlySpan<char> text, Piece piece, Func<int, bool> isDelimiter, DelimiterBehavior behavior, List<Piece> output)
    {
        var matches = t_matches ??= [];
        matches.Clear();
        for (int i = piece.Start; i < piece.End;)
        {
            int cp = Unicode.CharClass.CodePointAt(text, i, out int w);
            if (isDelimiter(cp)) matches.Add((i - piece.Start, i + w - piece.Start));
            i += w;
        }
        AddPieces(matches, piece, behavior, invert: false, output);
    }

    /// <summary>The pieces of <paramref name="piece"/> given the matches in it (relative positions): the
    /// reference's split of matches and gaps under <paramref name="behavior"/>; empty pieces are dropped.</summary>
    public static void AddPieces(List<(int Start, int End)> matches, Piece piece, DelimiterBehavior behavior, bool invert, List<Piece> output)
    {
        if (piece.End <= piece.Start) return;
        var parts = t_parts ??= [];
        Delimit(matches, piece.End - piece.Start, behavior, invert, parts);
        foreach (var (s, e, _) in parts)
            if (e > s) output.Add(new Piece(piece.Start + s, piece.Start + e));
    }

    /// <summary>The reference's split: matches and gaps in order, then the behaviour decides what becomes a piece.
    /// Parts flagged Match = true are dropped only with Removed; empty parts are dropped by the caller.</summary>
    private static void Delimit(List<(int Start, int End)> matches, int length, DelimiterBehavior behavior, bool invert,
        List<(int Start, int End, bool Match)> result)
    {
        result.Clear();
        var all = t_all ??= [];
        all.Clear();
        int prev = 0;
        foreach (var (s, e) in matches)
        {
            if (prev != s) all.Add((prev, s, invert));
            all.Add((s, e, !invert));
            prev = e;
        }
        if (prev != length) all.Add((prev, length, invert));

        switch (behavior)
        {
            case DelimiterBehavior.Isolated:
                result.AddRange(all);
                break;
            case DelimiterBehavior.Removed:
                foreach (var p in all) if (!p.Match) result.Add(p);
                break;
            case DelimiterBehavior.MergedWithPrevious:
            {
                bool previousMatch = false;
                foreach (var p in all)
                {
                    if (p.Match && !previousMatch && result.Count > 0)
                        result[^1] = (result[^1].Start, p.End, result[^1].Match);
                    else result.Add(p);
                    previousMatch = p.Match;
                }
                break;
            }
            case DelimiterBehavior.MergedWithNext:
            {
                bool previousMatch = false;
                for (int i = all.Count - 1; i >= 0; i--)
                {
                    var p = all[i];
                    if (p.Match && !previousMatch && result.Count > 0)
                        result[^1] = (p.Start, result[^1].End, result[^1].Match);
                    else result.Add(p);
                    previousMatch = p.Match;
                }
                result.Reverse();
                break;
            }
            case DelimiterBehavior.Contiguous:
            {
                bool previousMatch = false;
                foreach (var p in all)
                {
                    if (p.Match == previousMatch && result.Count > 0)
                        result[^1] = (result[^1].Start, p.End, result[^1].Match);
                    else result.Add(p);
                    previousMatch = p.Match;
                }
                break;
            }
        }
    }
}
