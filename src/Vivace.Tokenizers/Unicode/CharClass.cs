using System.Globalization;
using System.Text;

namespace Vivace.Tokenizers.Unicode;

/// <summary>
/// Character classes with the definitions the Hugging Face tokenizers use (Rust char semantics):
/// whitespace is Unicode White_Space, "other" is Cc/Cf/Cs/Co/Cn, BERT punctuation is ASCII symbols plus P*.
/// BMP answers come from a flag table built once; astral code points are classified on the fly.
/// </summary>
internal static class CharClass
{
    [Flags]
    private enum F : byte
    {
        Whitespace = 1,
        Other = 2,
        Punctuation = 4,
        Chinese = 8,
        MarkNonspacing = 16,
    }

    private static readonly F[] Bmp = BuildBmp();

    private static F[] BuildBmp()
    {
        var t = new F[0x10000];
        for (int c = 0; c < t.Length; c++) t[c] = Classify(c);
        return t;
    }

    private static F Classify(int cp)
    {
        F f = 0;
        if (IsWhiteSpaceProperty(cp)) f |= F.Whitespace;
        var cat = (uint)cp <= 0xFFFF && cp is >= 0xD800 and <= 0xDFFF
            ? UnicodeCategory.Surrogate
            : CharUnicodeInfo.GetUnicodeCategory(cp);
        switch (cat)
        {
            case UnicodeCategory.Control:
            case UnicodeCategory.Format:
            case UnicodeCategory.Surrogate:
            case UnicodeCategory.PrivateUse:
            case UnicodeCategory.OtherNotAssigned:
                f |= F.Other;
                break;
            case UnicodeCategory.ConnectorPunctuation:
            case UnicodeCategory.DashPunctuation:
            case UnicodeCategory.OpenPunctuation:
            case UnicodeCategory.ClosePunctuation:
            case UnicodeCategory.InitialQuotePunctuation:
            case UnicodeCategory.FinalQuotePunctuation:
            case UnicodeCategory.OtherPunctuation:
                f |= F.Punctuation;
                break;
            case UnicodeCategory.NonSpacingMark:
                f |= F.MarkNonspacing;
                break;
        }
        if (cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126)) f |= F.Punctuation;
        if (IsChineseRange(cp)) f |= F.Chinese;
        return f;
    }

    /// <summary>Unicode White_Space (what Rust's char::is_whitespace answers).</summary>
    private static bool IsWhiteSpaceProperty(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>The CJK ideograph blocks the BERT normalizer pads with spaces.</summary>
    private static bool IsChineseRange(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    /// <summary>U+D800..U+DFFF, for a vectorized "any surrogate here?" (MemoryExtensions.IndexOfAnyInRange&lt;char&gt;
    /// allocates on every call in .NET 10; a SearchValues search does not).</summary>
    public static readonly System.Buffers.SearchValues<char> Surrogates =
        System.Buffers.SearchValues.Create(Enumerable.Range(0xD800, 0x800).Select(c => (char)c).ToArray());

    private static F Get(int cp) => (uint)cp < 0x10000 ? Bmp[cp] : Classify(cp);

    /// <summary>Rust char::is_whitespace.</summary>
    public static bool IsWhitespace(int cp) => (Get(cp) & F.Whitespace) != 0;

    /// <summary>Cc, Cf, Cs, Co or Cn.</summary>
    public static bool IsOther(int cp) => (Get(cp) & F.Other) != 0;

    /// <summary>ASCII punctuation/symbols or a Unicode P* category (BERT's definition).</summary>
    public static bool IsBertPunctuation(int cp) => (Get(cp) & F.Punctuation) != 0;

    public static bool IsChinese(int cp) => (uint)cp >= 0x3400 && (Get(cp) & F.Chinese) != 0;

    public static bool IsMarkNonspacing(int cp) => (Get(cp) & F.MarkNonspacing) != 0;

    /// <summary>Reads the code point at <paramref name="i"/>; a lone surrogate reads as U+FFFD (as a UTF-8
    /// conversion would make it). <paramref name="width"/> is 1 or 2 code units.</summary>
    public static int CodePointAt(ReadOnlySpan<char> s, int i, out int width)
    {
        char c = s[i];
        if (!char.IsSurrogate(c)) { width = 1; return c; }
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(c, s[i + 1]);
        }
        width = 1;
        return 0xFFFD;
    }

    /// <summary>Full lowercase mapping as Rust's char::to_lowercase: simple mappings plus U+0130 -> "i\u0307".
    /// Returns the number of UTF-16 code units written (1..3).</summary>
    public static int ToLower(int cp, Span<char> dest)
    {
        if (cp < 0x80)
        {
            dest[0] = (char)(cp is >= 'A' and <= 'Z' ? cp + 32 : cp);
            return 1;
        }
        if (cp == 0x130)
        {
            dest[0] = 'i';
            dest[1] = '\u0307';
            return 2;
        }
        return Rune.ToLowerInvariant(new Rune(cp)).EncodeToUtf16(dest);
    }
}
