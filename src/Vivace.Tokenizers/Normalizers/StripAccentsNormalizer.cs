using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Normalizers;

/// <summary>Drops nonspacing marks (Mn) ("StripAccents"); it does not decompose, so pair it with NFD.</summary>
internal sealed class StripAccentsNormalizer : INormalizer
{
    public void Normalize(NormalizedString text)
    {
        var src = text.Normalized;
        text.BeginRewrite(src.Length);
        for (int i = 0; i < src.Length;)
        {
            int cp = CharClass.CodePointAt(src, i, out int w);
            if (!CharClass.IsMarkNonspacing(cp))
                for (int q = 0; q < w; q++) text.Emit(src[i + q], i + q);
            i += w;
        }
        text.EndRewrite();
    }
}
