namespace Vivace.Tokenizers.Decoders;

/// <summary>"Strip": removes up to <c>start</c> leading and <c>stop</c> trailing <c>content</c> characters from each token.</summary>
internal sealed class StripDecoder(string content, int start, int stop) : ChainDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        if (content.Length == 0) return;
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            int s = 0, e = t.Length;
            for (int k = 0; k < start && s + content.Length <= e && string.CompareOrdinal(t, s, content, 0, content.Length) == 0; k++)
                s += content.Length;
            for (int k = 0; k < stop && e - content.Length >= s && string.CompareOrdinal(t, e - content.Length, content, 0, content.Length) == 0; k++)
                e -= content.Length;
            if (s > 0 || e < t.Length) tokens[i] = t[s..e];
        }
    }
}
