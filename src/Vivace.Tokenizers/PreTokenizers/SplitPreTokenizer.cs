using System.Text.Json;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>"Split": splits on a string or (Oniguruma) regex pattern; <c>invert</c> swaps matches and gaps.</summary>
internal sealed class SplitPreTokenizer(OnigRegex regex, DelimiterBehavior behavior, bool invert) : IPreTokenizer
{
    [ThreadStatic] private static List<(int, int)>? t_matches;
    [ThreadStatic] private static List<(int Start, int End, bool Match)>? t_parts;
    [ThreadStatic] private static List<(int Start, int End, bool Match)>? t_all;

    public static SplitPreTokenizer FromJson(JsonElement e)
    {
        var pattern = e.GetProperty("pattern");
        OnigRegex regex = pattern.TryGetProperty("Regex", out var r) ? new OnigRegex(r.GetString()!)
            : OnigRegex.Literal(pattern.GetProperty("String").GetString()!);
        var behavior = PieceSplitter.Parse(JsonRead.String(e, "behavior"), DelimiterBehavior.Removed);
        return new SplitPreTokenizer(regex, behavior, JsonRead.Bool(e, "invert", false));
    }

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output)
    {
        if (piece.End <= piece.Start) return;
        var matches = t_matches ??= [];
        matches.Clear();
        regex.Matches(text[piece.Start..piece.End], matches);
        var parts = t_parts ??= [];
        Delimit(matches, piece.End - piece.Start, behavior, invert, parts);
        foreach (var (s, e, _) in parts)
            if (e > s) output.Add(new Piece(piece.Start + s, piece.Start + e));
    }

    /// <summary>The reference's split: matches and gaps in order, then the behaviour decides what becomes a piece.
    /// Parts flagged Match = true are dropped only with Removed; empty parts are dropped by the caller.</summary>
    internal static void Delimit(List<(int Start, int End)> matches, int length, DelimiterBehavior behavior, bool invert,
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
