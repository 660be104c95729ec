using System.Text;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Decoders;

/// <summary>"Replace": every match of the pattern in each token becomes <c>content</c>.</summary>
internal sealed class ReplaceDecoder(OnigRegex pattern, string content) : ChainDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var matches = new List<(int Start, int End)>();
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            matches.Clear();
            pattern.Matches(t, matches);
            if (matches.Count == 0) continue;
            var sb = new StringBuilder(t.Length);
            int pos = 0;
            foreach (var (s, e) in matches)
            {
                sb.Append(t, pos, s - pos).Append(content);
                pos = e;
            }
            tokens[i] = sb.Append(t, pos, t.Length - pos).ToString();
        }
    }
}
