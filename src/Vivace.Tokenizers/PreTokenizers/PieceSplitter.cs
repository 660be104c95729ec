namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>What happens to the delimiters when a piece is split (the reference's SplitDelimiterBehavior).</summary>
internal enum DelimiterBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>
/// Splits a piece at every code point a predicate matches (each matched code point is its own delimiter, as
/// the reference's char patterns are) and applies the delimiter behavior; empty pieces are dropped.
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

    public static void Split(ReadOnlySpan<char> text, Piece piece, Func<int, bool> isDelimiter, DelimiterBehavior behavior, List<Piece> output)
    {
        // (start, end, isMatch) in order: maximal non-matching runs and single matched code points.
        int pendingStart = -1; // start of the piece being built (for merged behaviors)
        bool pendingMatch = false;
        int runStart = piece.Start;
        for (int i = piece.Start; i < piece.End;)
        {
            int cp = Unicode.CharClass.CodePointAt(text, i, out int w);
            if (isDelimiter(cp))
            {
                if (runStart < i) Add(output, behavior, runStart, i, false, ref pendingStart, ref pendingMatch);
                Add(output, behavior, i, i + w, true, ref pendingStart, ref pendingMatch);
                runStart = i + w;
            }
            i += w;
        }
        if (runStart < piece.End) Add(output, behavior, runStart, piece.End, false, ref pendingStart, ref pendingMatch);
        if (pendingStart >= 0 && pendingStart < piece.End)
        {
            // Close the open piece at the end.
            output.Add(new Piece(pendingStart, piece.End));
        }
    }

    private static void Add(List<Piece> output, DelimiterBehavior behavior, int s, int e, bool match, ref int pendingStart, ref bool pendingMatch)
    {
        switch (behavior)
        {
            case DelimiterBehavior.Removed:
                if (!match) output.Add(new Piece(s, e));
                break;
            case DelimiterBehavior.Isolated:
                output.Add(new Piece(s, e));
                break;
            case DelimiterBehavior.MergedWithPrevious:
                // A match joins the piece before it unless that piece ended with a match.
                if (match && pendingStart >= 0 && !pendingMatch) { pendingMatch = true; return; }
                if (pendingStart >= 0) output.Add(new Piece(pendingStart, s));
                pendingStart = s;
                pendingMatch = match;
                break;
            case DelimiterBehavior.MergedWithNext:
                // A match starts a new piece that takes in the non-matching run after it.
                if (!match && pendingStart >= 0 && pendingMatch) { pendingMatch = false; return; }
                if (pendingStart >= 0) output.Add(new Piece(pendingStart, s));
                pendingStart = s;
                pendingMatch = match;
                break;
            case DelimiterBehavior.Contiguous:
                if (pendingStart >= 0 && pendingMatch == match) return;
                if (pendingStart >= 0) output.Add(new Piece(pendingStart, s));
                pendingStart = s;
                pendingMatch = match;
                break;
        }
    }
}
