using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>Splits on Unicode whitespace, which is removed ("WhitespaceSplit").</summary>
internal sealed class WhitespaceSplitPreTokenizer : IPreTokenizer
{
    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output)
    {
        int wordStart = -1;
        for (int i = piece.Start; i < piece.End;)
        {
            int cp = CharClass.CodePointAt(text, i, out int w);
            if (CharClass.IsWhitespace(cp))
            {
                if (wordStart >= 0) { output.Add(new Piece(wordStart, i)); wordStart = -1; }
            }
            else if (wordStart < 0) wordStart = i;
            i += w;
        }
        if (wordStart >= 0) output.Add(new Piece(wordStart, piece.End));
    }
}
