using System.Buffers;
using Vivace.Tokenizers.PreTokenizers;

namespace Vivace.Tokenizers.Decoders;

/// <summary>"ByteLevel" decoder: maps each token's characters back to bytes (a token with a character outside
/// the byte table contributes its own UTF-8) and decodes the whole as UTF-8, invalid sequences as U+FFFD.</summary>
internal sealed class ByteLevelDecoder : ChainDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var bytes = new ArrayBufferWriter<byte>(256);
        foreach (string t in tokens)
        {
            bool mapped = true;
            foreach (char c in t) if (ByteLevelTable.ByteOf(c) < 0) { mapped = false; break; }
            if (mapped)
            {
                var dst = bytes.GetSpan(t.Length);
                for (int i = 0; i < t.Length; i++) dst[i] = (byte)ByteLevelTable.ByteOf(t[i]);
                bytes.Advance(t.Length);
            }
            else
            {
                int n = System.Text.Encoding.UTF8.GetByteCount(t);
                System.Text.Encoding.UTF8.GetBytes(t, bytes.GetSpan(n));
                bytes.Advance(n);
            }
        }
        string text = System.Text.Encoding.UTF8.GetString(bytes.WrittenSpan);
        tokens.Clear();
        tokens.Add(text);
    }
}
