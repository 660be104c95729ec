namespace Vivace.Tokenizers.Unicode;

/// <summary>
/// Canonical decomposition (NFD) and combining classes from our own generated tables, so that accent
/// stripping works the same with InvariantGlobalization (where string.Normalize leaves non-ASCII alone).
/// </summary>
internal static partial class UnicodeTables
{
    private const int HangulBase = 0xAC00, HangulCount = 11172;
    private const int LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, VCount = 21, TCount = 28, NCount = VCount * TCount;

    /// <summary>Writes the full canonical decomposition of <paramref name="cp"/> (UTF-16) into
    /// <paramref name="dest"/> and returns the count, or 0 when the code point does not decompose.
    /// <paramref name="dest"/> needs room for <see cref="MaxDecompositionLength"/> code units.</summary>
    /// <summary>Longest decomposition in UTF-16 code units (6 in Unicode 14), with headroom.</summary>
    public const int MaxDecompositionLength = 8;

    public static int Decompose(int cp, Span<char> dest)
    {
        if (cp < 0xC0) return 0;
        int h = cp - HangulBase;
        if ((uint)h < HangulCount)
        {
            dest[0] = (char)(LBase + h / NCount);
            dest[1] = (char)(VBase + h % NCount / TCount);
            int t = h % TCount;
            if (t == 0) return 2;
            dest[2] = (char)(TBase + t);
            return 3;
        }
        int i = DecompositionKeys.BinarySearch(cp);
        if (i < 0) return 0;
        int start = DecompositionStarts[i], end = DecompositionStarts[i + 1];
        for (int k = start; k < end; k++) dest[k - start] = (char)DecompositionChars[k];
        return end - start;
    }

    /// <summary>The canonical combining class (0 for starters).</summary>
    public static int CombiningClass(int cp)
    {
        if (cp < 0x300) return 0;
        int i = CombiningClassKeys.BinarySearch(cp);
        return i < 0 ? 0 : CombiningClassValues[i];
    }
}
