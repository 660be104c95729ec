namespace Vivace.Tokenizers.Unicode;

/// <summary>Compatibility decomposition (NFKD/NFKC) and canonical composition (NFC/NFKC) from generated tables.</summary>
internal static partial class UnicodeTables
{
    /// <summary>Longest full compatibility decomposition in UTF-16 code units (18 for U+FDFA), with headroom.</summary>
    public const int MaxCompatibilityLength = 32;

    /// <summary>Writes the full compatibility decomposition of <paramref name="cp"/> (or its canonical one when
    /// they agree) into <paramref name="dest"/>; 0 when it does not decompose.</summary>
    public static int DecomposeCompatibility(int cp, Span<char> dest)
    {
        if (cp < 0xA0) return 0;
        int i = CompatibilityKeys.BinarySearch(cp);
        if (i < 0) return Decompose(cp, dest);
        int start = CompatibilityStarts[i], end = CompatibilityStarts[i + 1];
        for (int k = start; k < end; k++) dest[k - start] = (char)CompatibilityChars[k];
        return end - start;
    }

    /// <summary>The primary composite of <paramref name="first"/> + <paramref name="second"/>, or -1.</summary>
    public static int Compose(int first, int second)
    {
        // Hangul: L + V -> LV, LV + T -> LVT.
        if ((uint)(first - LBase) < 19 && (uint)(second - VBase) < VCount)
            return HangulBase + ((first - LBase) * VCount + (second - VBase)) * TCount;
        if ((uint)(first - HangulBase) < HangulCount && (first - HangulBase) % TCount == 0 && (uint)(second - TBase - 1) < TCount - 1)
            return first + (second - TBase);
        int i = CompositionKeys.BinarySearch(((long)first << 21) | (uint)second);
        return i < 0 ? -1 : CompositionValues[i];
    }
}

/// <summary>The Unicode Script property (generated ranges).</summary>
internal static partial class UnicodeTables
{
    /// <summary>The script index of <paramref name="cp"/> (see <see cref="ScriptNames"/>).</summary>
    public static int Script(int cp)
    {
        int i = ScriptRangeStarts.BinarySearch(cp);
        if (i < 0) i = ~i - 1;
        return i < 0 ? 0 : ScriptRangeValues[i];
    }

    public static int ScriptIndex(string name) => Array.IndexOf(ScriptNames, name);
}
