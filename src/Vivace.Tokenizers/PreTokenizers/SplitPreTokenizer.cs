using System.Text.Json;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>"Split": splits on a string or (Oniguruma) regex pattern; <c>invert</c> swaps matches and gaps.</summary>
internal sealed class SplitPreTokenizer(OnigRegex regex, DelimiterBehavior behavior, bool invert) : IPreTokenizer
{
    [ThreadStatic] private static List<(int, int)>? t_matches;

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
        PieceSplitter.AddPieces(matches, piece, behavior, invert, output);
    }
}
