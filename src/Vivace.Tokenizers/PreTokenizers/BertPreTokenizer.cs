using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>Splits on whitespace (removed) and isolates every punctuation character ("BertPreTokenizer").</summary>
internal sealed class BertPreTokenizer : IPreTokenizer
{
    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output)
    {
        int wordStart = -1;
        for (int i = piece.Start; i < piece.End;)
        {
            char c = text[i];
            int cp, w;
            if (c < 0x80) { cp = c; w = 1; }
            else cp = CharClass.CodePointAt(text, i, out w);

            bool space = c < 0x80 ? c is ' ' or (>= '\t' and <= '\r') : CharClass.IsWhitespace(cp);
            if (space || CharClass.IsBertPunctuation(cp))
            {
                if (wordStart >= 0) { output.Add(new Piece(wordStart, i)); wordStart = -1; }
                if (!space) output.Add(new Piece(i, i + w));
            }
            else if (wordStart < 0) wordStart = i;
            i += w;
        }
        if (wordStart >= 0) output.Add(new Piece(wordStart, piece.End));
    }
}
