namespace Vivace.Tokenizers.Normalizers;

/// <summary>"Prepend": puts <c>prepend</c> before non-empty text, aligned with the first character.</summary>
internal sealed class PrependNormalizer(string prepend) : INormalizer
{
    public void Normalize(NormalizedString text)
    {
        var src = text.Normalized;
        if (src.IsEmpty || prepend.Length == 0) return;
        text.BeginRewrite(src.Length + prepend.Length);
        int first = char.IsHighSurrogate(src[0]) && src.Length > 1 ? 2 : 1;
        foreach (char c in prepend) text.Emit(c, 0, first);
        for (int i = 0; i < src.Length; i++) text.Emit(src[i], i);
        text.EndRewrite();
    }
}
