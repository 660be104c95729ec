using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Normalizers;

/// <summary>
/// "NFC", "NFKC", "NFKD": full decomposition (canonical, or compatibility for the K forms), canonical
/// ordering of combining marks, then for the C forms canonical composition, over the whole text as the
/// reference does. Each output character is aligned with the character it came from (a composite with its
/// starter).
/// </summary>
internal sealed class UnicodeFormNormalizer(bool compatibility, bool compose) : INormalizer
{
    public bool Compatibility { get; } = compatibility;
    public bool Composes { get; } = compose;

    [ThreadStatic] private static int[]? t_cps, t_from, t_width;

    public void Normalize(NormalizedString text)
    {
        var src = text.Normalized;
        int n = src.Length;
        if (IsAsciiOnly(src)) return; // ASCII is in every normalization form

        // 1. Decompose into code points, each remembering the original unit range it came from.
        int cap = n * 4 + 16;
        var cps = Rent(ref t_cps, cap);
        var from = Rent(ref t_from, cap);
        var width = Rent(ref t_width, cap);
        int m = 0;
        Span<char> buf = stackalloc char[UnicodeTables.MaxCompatibilityLength];
        for (int i = 0; i < n;)
        {
            int cp = CharClass.CodePointAt(src, i, out int w);
            int k = Compatibility ? UnicodeTables.DecomposeCompatibility(cp, buf) : UnicodeTables.Decompose(cp, buf);
            if (k == 0)
            {
                Push(ref cps, ref from, ref width, ref m, cp, i, w);
            }
            else
            {
                for (int q = 0; q < k;)
                {
                    int d = CharClass.CodePointAt(buf[..k], q, out int dw);
                    Push(ref cps, ref from, ref width, ref m, d, i, w);
                    q += dw;
                }
            }
            i += w;
        }

        // 2. Canonical ordering: stable sort of each run of non-starters by combining class.
        for (int i = 1; i < m; i++)
        {
            int ccc = UnicodeTables.CombiningClass(cps[i]);
            if (ccc == 0) continue;
            for (int j = i; j > 0; j--)
            {
                int prev = UnicodeTables.CombiningClass(cps[j - 1]);
                if (prev == 0 || prev <= ccc) break;
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
                (from[j - 1], from[j]) = (from[j], from[j - 1]);
                (width[j - 1], width[j]) = (width[j], width[j - 1]);
            }
        }

        // 3. Canonical composition.
        if (Composes) m = ComposeInPlace(cps, m, from, width);

        text.BeginRewrite(m * 2 + 8);
        Span<char> two = stackalloc char[2];
        for (int i = 0; i < m; i++)
        {
            int u = new System.Text.Rune(cps[i]).EncodeToUtf16(two);
            for (int q = 0; q < u; q++) text.Emit(two[q], from[i], width[i]);
        }
        text.EndRewrite();
    }

    private static int ComposeInPlace(int[] cps, int m, int[] from, int[] width)
    {
        int outLen = 0;
        int starter = -1;
        int lastCcc = 0;
        for (int i = 0; i < m; i++)
        {
            int cp = cps[i];
            int ccc = UnicodeTables.CombiningClass(cp);
            if (starter >= 0)
            {
                bool adjacent = outLen - 1 == starter;
                if (adjacent || (lastCcc != 0 && lastCcc < ccc))
                {
                    int composite = UnicodeTables.Compose(cps[starter], cp);
                    if (composite >= 0)
                    {
                        cps[starter] = composite;
                        continue;
                    }
                }
            }
            if (ccc == 0) starter = outLen;
            cps[outLen] = cp;
            from[outLen] = from[i];
            width[outLen] = width[i];
            outLen++;
            lastCcc = ccc;
        }
        return outLen;
    }

    private static bool IsAsciiOnly(ReadOnlySpan<char> s) => System.Text.Ascii.IsValid(s);

    private static int[] Rent(ref int[]? slot, int n) => slot is { } a && a.Length >= n ? a : slot = new int[n];

    private static void Push(ref int[] cps, ref int[] from, ref int[] width, ref int m, int cp, int f, int w)
    {
        if (m == cps.Length)
        {
            Array.Resize(ref cps, m * 2);
            Array.Resize(ref from, m * 2);
            Array.Resize(ref width, m * 2);
            t_cps = cps; t_from = from; t_width = width;
        }
        cps[m] = cp;
        from[m] = f;
        width[m] = w;
        m++;
    }
}
