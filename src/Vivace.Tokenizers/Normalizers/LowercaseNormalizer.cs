using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Normalizers;

/// <summary>Full Unicode lowercase per code point ("Lowercase").</summary>
internal sealed class LowercaseNormalizer : INormalizer
{
    public void Normalize(NormalizedString text)
    {
        var src = text.Normalized;
        text.BeginRewrite(src.Length + 8);
        for (int i = 0; i < src.Length;)
        {
            int cp = CharClass.CodePointAt(src, i, out int w);
            BertNormalizer.EmitCodePoint(text, cp, i, w, lower: true);
            i += w;
        }
        text.EndRewrite();
    }
}
