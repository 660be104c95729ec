using System.Text.Json;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>"Punctuation": splits at every punctuation character (ASCII punctuation or Unicode P*) with the
/// given behavior (Isolated by default).</summary>
internal sealed class PunctuationPreTokenizer(DelimiterBehavior behavior = DelimiterBehavior.Isolated) : IPreTokenizer
{
    private static readonly Func<int, bool> IsPunctuation = CharClass.IsBertPunctuation;

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output) =>
        PieceSplitter.Split(text, piece, IsPunctuation, behavior, output);

    public static PunctuationPreTokenizer FromJson(JsonElement e) =>
        new(PieceSplitter.Parse(JsonRead.String(e, "behavior"), DelimiterBehavior.Isolated));
}
