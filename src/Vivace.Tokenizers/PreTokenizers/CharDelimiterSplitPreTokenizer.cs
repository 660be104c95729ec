namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>"CharDelimiterSplit": splits on one character, which is removed.</summary>
internal sealed class CharDelimiterSplitPreTokenizer(int delimiter) : IPreTokenizer
{
    private readonly Func<int, bool> _isDelimiter = cp => cp == delimiter; // made once, not per call

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output) =>
        PieceSplitter.Split(text, piece, _isDelimiter, DelimiterBehavior.Removed, output);

    public static CharDelimiterSplitPreTokenizer FromJson(System.Text.Json.JsonElement e)
    {
        string d = JsonRead.String(e, "delimiter") ?? throw new InvalidDataException("CharDelimiterSplit needs a delimiter.");
        return new CharDelimiterSplitPreTokenizer(char.ConvertToUtf32(d, 0));
    }
}
