using System.Globalization;

namespace Vivace.Tokenizers.Unicode;

/// <summary>
/// GPT-2's pre-tokenization regex, <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>,
/// written out as the state machine it is: one pass over the code points, a class per code point (a table for
/// the BMP), no backtracking engine. It gives exactly the regex's matches (as <see cref="OnigRegex"/> runs it,
/// with .NET's <c>\s</c> and the code point's general category for <c>\p{L}</c>/<c>\p{N}</c>); the test compares
/// the two on the corpus and on random strings. Used by every byte-level BPE (GPT-2, RoBERTa, Phi-2, ...).
/// </summary>
internal static class Gpt2PatternSplitter
{
    public const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private const byte Letter = 0, Number = 1, Space = 2, Other = 3;

    private static readonly byte[] s_bmp = BuildBmp();

    private static byte[] BuildBmp()
    {
        var table = new byte[0x10000];
        for (int c = 0; c < table.Length; c++) table[c] = Classify(c);
        return table;
    }

    private static byte Classify(int cp)
    {
        if (cp <= 0xFFFF && char.IsWhiteSpace((char)cp)) return Space;
        if (cp is >= 0xD800 and <= 0xDFFF) return Other; // a lone surrogate is Cs
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            _ => Other,
        };
    }

    /// <summary>Class of the code point at <paramref name="i"/>; <paramref name="width"/> is 2 for a surrogate pair.</summary>
    private static byte ClassAt(ReadOnlySpan<char> text, int i, out int width)
    {
        char c = text[i];
        if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
        {
            width = 2;
            return Classify(char.ConvertToUtf32(c, text[i + 1]));
        }
        width = 1;
        return s_bmp[c];
    }

    /// <summary>Appends the [start, end) of every match, as the regex's successive matches would be.</summary>
    public static void Matches(ReadOnlySpan<char> text, List<(int Start, int End)> output)
    {
        int n = text.Length;
        int i = 0;
        while (i < n)
        {
            char c = text[i];
            if (c == '\'' && i + 1 < n)
            {
                // The contractions come first in the alternation and are case-sensitive.
                char c1 = text[i + 1];
                if (c1 is 's' or 't' or 'm' or 'd') { output.Add((i, i + 2)); i += 2; continue; }
                if (i + 2 < n && (c1 == 'r' && text[i + 2] == 'e' || c1 == 'v' && text[i + 2] == 'e' || c1 == 'l' && text[i + 2] == 'l'))
                {
                    output.Add((i, i + 3));
                    i += 3;
                    continue;
                }
            }

            int start = i;
            byte cls = ClassAt(text, i, out int w);
            if (c == ' ' && i + 1 < n)
            {
                // " ?X+": a single U+0020 joins the run of letters, numbers or others that follows it.
                byte next = ClassAt(text, i + 1, out int nw);
                if (next != Space)
                {
                    cls = next;
                    w = 1 + nw;
                }
            }
            int j = i + w;
            if (cls != Space)
            {
                // A maximal run of the class (others: anything but whitespace, letters and numbers).
                while (j < n && ClassAt(text, j, out int k) == cls) j += k;
                output.Add((start, j));
                i = j;
                continue;
            }

            // Whitespace: "\s+(?!\S)" takes the run, less its last character when a non-space follows;
            // a single whitespace before a non-space falls through to "\s+". Whitespace is all in the BMP.
            while (j < n && s_bmp[text[j]] == Space) j++;
            if (j < n && j - start >= 2) j--;
            output.Add((start, j));
            i = j;
        }
    }
}
