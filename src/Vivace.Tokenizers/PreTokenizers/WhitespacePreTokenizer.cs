using System.Globalization;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>"Whitespace": the matches of <c>\w+|[^\w\s]+</c> (runs of word characters, runs of other
/// non-space characters); whitespace is dropped. \w is Unicode: alphabetic, marks, decimal digits,
/// connector punctuation and the joiners, as in the reference's regex engine.</summary>
internal sealed class WhitespacePreTokenizer : IPreTokenizer
{
    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output)
    {
        int runStart = -1;
        int runKind = 0; // 1 word, 2 other
        for (int i = piece.Start; i < piece.End;)
        {
            int cp = CharClass.CodePointAt(text, i, out int w);
            int kind = CharClass.IsWhitespace(cp) ? 0 : IsWord(cp) ? 1 : 2;
            if (kind != runKind)
            {
                if (runKind != 0) output.Add(new Piece(runStart, i));
                runStart = i;
                runKind = kind;
            }
            i += w;
        }
        if (runKind != 0) output.Add(new Piece(runStart, piece.End));
    }

    internal static bool IsWord(int cp)
    {
        if (cp < 0x80) return cp is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';
        if (cp is 0x200C or 0x200D) return true;
        // Other_Alphabetic symbols (circled / squared Latin letters).
        if (cp is (>= 0x24B6 and <= 0x24E9) or (>= 0x1F130 and <= 0x1F149) or (>= 0x1F150 and <= 0x1F169) or (>= 0x1F170 and <= 0x1F189)) return true;
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.LetterNumber
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }
}
