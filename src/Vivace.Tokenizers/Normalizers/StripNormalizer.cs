using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Normalizers;

/// <summary>"Strip": removes leading (left) and/or trailing (right) Unicode whitespace.</summary>
internal sealed class StripNormalizer(bool left, bool right) : INormalizer
{
    public void Normalize(NormalizedString text)
    {
        var s = text.Normalized;
        int start = 0, end = s.Length;
        if (left)
            while (start < end && CharClass.IsWhitespace(CharClass.CodePointAt(s, start, out int w))) start += w;
        if (right)
            while (end > start)
            {
                int i = end - 1;
                if (char.IsLowSurrogate(s[i]) && i > start && char.IsHighSurrogate(s[i - 1])) i--;
                if (!CharClass.IsWhitespace(CharClass.CodePointAt(s, i, out _))) break;
                end = i;
            }
        if (start == 0 && end == s.Length) return;
        text.BeginRewrite(end - start);
        for (int i = start; i < end; i++) text.Emit(s[i], i);
        text.EndRewrite();
    }
}
