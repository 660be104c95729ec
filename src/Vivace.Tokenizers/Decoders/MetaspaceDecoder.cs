using System.Text;
using System.Text.Json;
using Vivace.Tokenizers.PreTokenizers;

namespace Vivace.Tokenizers.Decoders;

/// <summary>"Metaspace" decoder: the replacement becomes a space, except in the first token, where it is
/// dropped (unless prepend_scheme is never).</summary>
internal sealed class MetaspaceDecoder(string replacement, PrependScheme prependScheme) : IDecoder
{
    public string Decode(IReadOnlyList<string> tokens) => string.Concat(DecodeChain(tokens));

    public IReadOnlyList<string> DecodeChain(IReadOnlyList<string> tokens)
    {
        var result = new string[tokens.Count];
        var sb = new StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            bool drop = i == 0 && prependScheme != PrependScheme.Never;
            sb.Clear();
            for (int k = 0; k < t.Length;)
            {
                if (string.CompareOrdinal(t, k, replacement, 0, replacement.Length) == 0)
                {
                    if (!drop) sb.Append(' ');
                    k += replacement.Length;
                }
                else sb.Append(t[k++]);
            }
            result[i] = sb.ToString();
        }
        return result;
    }

    public static MetaspaceDecoder FromJson(JsonElement e)
    {
        var (rep, scheme, _) = MetaspacePreTokenizer.ReadOptions(e);
        return new MetaspaceDecoder(rep, scheme);
    }
}
