using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Normalizers;

/// <summary>
/// BERT's normalizer, in one pass per code point: clean_text (drop NUL, U+FFFD and Cc/Cf/Cs/Co/Cn except
/// \t \n \r; map whitespace to ' '), handle_chinese_chars (spaces around CJK ideographs), strip_accents
/// (NFD, then drop Mn) and lowercase, applied in that order as the reference does.
/// </summary>
internal sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool stripAccents, bool lowercase) : INormalizer
{
    public bool CleanText { get; } = cleanText;
    public bool HandleChineseChars { get; } = handleChineseChars;
    public bool StripAccents { get; } = stripAccents;
    public bool Lowercase { get; } = lowercase;

    public void Normalize(NormalizedString text)
    {
        var src = text.Normalized;
        int n = src.Length;
        text.BeginRewrite(n + (n >> 2) + 8);
        Span<char> decomposed = stackalloc char[UnicodeTables.MaxDecompositionLength];
        bool clean = CleanText, cjk = HandleChineseChars, strip = StripAccents, lower = Lowercase;

        for (int i = 0; i < n;)
        {
            char c = src[i];
            if (c is >= ' ' and < (char)0x7F)
            {
                // A run of printable ASCII (space included) maps one to one: copy it in bulk.
                int run = i + 1;
                while (run < n && src[run] is >= ' ' and < (char)0x7F) run++;
                text.EmitRun(i, run - i, lower);
                i = run;
                continue;
            }
            if (c < 0x80)
            {
                // ASCII: no decompositions, no CJK, only A-Z to lowercase.
                if (clean)
                {
                    if (c is '\t' or '\n' or '\r' or ' ') { text.Emit(' ', i); i++; continue; }
                    if (c < 0x20 || c == 0x7F) { i++; continue; }
                }
                text.Emit(lower && c is >= 'A' and <= 'Z' ? (char)(c + 32) : c, i);
                i++;
                continue;
            }

            int cp = CharClass.CodePointAt(src, i, out int w);
            if (clean)
            {
                if (cp == 0xFFFD || CharClass.IsOther(cp)) { i += w; continue; }
                if (CharClass.IsWhitespace(cp)) { text.Emit(' ', i, w); i += w; continue; }
            }
            bool pad = cjk && CharClass.IsChinese(cp);
            if (pad) text.Emit(' ', i, w);
            int k = strip ? UnicodeTables.Decompose(cp, decomposed) : 0;
            if (k == 0)
            {
                if (!(strip && CharClass.IsMarkNonspacing(cp))) EmitCodePoint(text, cp, i, w, lower);
            }
            else
            {
                for (int j = 0; j < k;)
                {
                    int dcp = CharClass.CodePointAt(decomposed[..k], j, out int dw);
                    if (!CharClass.IsMarkNonspacing(dcp)) EmitCodePoint(text, dcp, i, w, lower);
                    j += dw;
                }
            }
            if (pad) text.Emit(' ', i, w);
            i += w;
        }
        text.EndRewrite();
    }

    internal static void EmitCodePoint(NormalizedString text, int cp, int from, int width, bool lower)
    {
        Span<char> buf = stackalloc char[4];
        int m = lower ? CharClass.ToLower(cp, buf) : new System.Text.Rune(cp).EncodeToUtf16(buf);
        for (int q = 0; q < m; q++) text.Emit(buf[q], from, width);
    }
}
