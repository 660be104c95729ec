using System.Text;

namespace Vivace.Tokenizers.Decoders;

/// <summary>
/// "WordPiece" decoder: a token with the prefix joins the previous one, any other is preceded by a space;
/// with cleanup, the reference's replacements (" ." -> ".", " n't" -> "n't", ...) are applied to each
/// token after that step, as the reference does (per token, not over the joined text).
/// </summary>
internal sealed class WordPieceDecoder(string prefix = "##", bool cleanup = true) : IDecoder
{
    private static readonly (string From, string To)[] Replacements =
    [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ];

    public string Decode(IReadOnlyList<string> tokens)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (i != 0)
                t = prefix.Length > 0 && t.StartsWith(prefix, StringComparison.Ordinal) ? t[prefix.Length..] : " " + t;
            if (cleanup) t = Cleanup(t);
            sb.Append(t);
        }
        return sb.ToString();
    }

    internal static string Cleanup(string s)
    {
        if (s.IndexOf(' ') < 0) return s;
        foreach (var (from, to) in Replacements) s = s.Replace(from, to, StringComparison.Ordinal);
        return s;
    }
}
