using System.Text;

namespace Vivace.Tokenizers.Decoders;

/// <summary>Llama-2 style decoding in one step (the reference's Replace "▁"→" ", ByteFallback, Fuse, Strip one
/// leading space): &lt;0xXX&gt; pieces become bytes (an invalid UTF-8 run gives one U+FFFD per byte).</summary>
internal sealed class SentencePieceDecoder(bool stripLeadingSpace) : IDecoder
{
    public string Decode(IReadOnlyList<string> tokens)
    {
        var sb = new StringBuilder();
        var pending = new List<byte>();
        void FlushBytes()
        {
            if (pending.Count == 0) return;
            var bytes = pending.ToArray();
            try { sb.Append(new UTF8Encoding(false, true).GetString(bytes)); }
            catch (DecoderFallbackException) { sb.Append('\uFFFD', bytes.Length); }
            pending.Clear();
        }
        foreach (string t in tokens)
        {
            if (t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>'
                && byte.TryParse(t.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            {
                pending.Add(b);
                continue;
            }
            FlushBytes();
            sb.Append(t.Replace('\u2581', ' '));
        }
        FlushBytes();
        if (stripLeadingSpace && sb.Length > 0 && sb[0] == ' ') sb.Remove(0, 1);
        return sb.ToString();
    }
}
