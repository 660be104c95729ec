using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Normalizers;

/// <summary>Canonical decomposition with canonical ordering of combining marks ("NFD").</summary>
internal sealed class NfdNormalizer : INormalizer
{
    public void Normalize(NormalizedString text)
    {
        var src = text.Normalized;
        text.BeginRewrite(src.Length + (src.Length >> 1) + 8);
        Span<char> decomposed = stackalloc char[UnicodeTables.MaxDecompositionLength];
        for (int i = 0; i < src.Length;)
        {
            int cp = CharClass.CodePointAt(src, i, out int w);
            int k = UnicodeTables.Decompose(cp, decomposed);
            if (k == 0) BertNormalizer.EmitCodePoint(text, cp, i, w, lower: false);
            else for (int q = 0; q < k; q++) text.Emit(decomposed[q], i, w);
            i += w;
        }
        text.EndRewrite();
        Reorder(text);
    }

    /// <summary>Stable sort of each run of non-starters by combining class (insertion sort on code points).</summary>
    private static void Reorder(NormalizedString text)
    {
        var s = text.Normalized;
        for (int i = 0; i < s.Length;)
        {
            int cp = CharClass.CodePointAt(s, i, out int w);
            int ccc = UnicodeTables.CombiningClass(cp);
            // Bubble this mark left past marks of a higher class (BMP marks; astral marks stay in place).
            if (ccc != 0 && w == 1)
            {
                int j = i;
                while (j > 0 && !char.IsSurrogate(s[j - 1]))
                {
                    int prev = UnicodeTables.CombiningClass(s[j - 1]);
                    if (prev <= ccc || prev == 0) break;
                    text.SwapUnits(j - 1, j);
                    s = text.Normalized;
                    j--;
                }
            }
            i += w;
        }
    }
}
