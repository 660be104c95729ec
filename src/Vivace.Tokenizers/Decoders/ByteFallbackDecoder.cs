namespace Vivace.Tokenizers.Decoders;

/// <summary>"ByteFallback": runs of <c>&lt;0xNN&gt;</c> tokens become the UTF-8 text they spell; a run that is not
/// valid UTF-8 becomes one U+FFFD per byte.</summary>
internal sealed class ByteFallbackDecoder : ChainDecoder
{
    private static readonly System.Text.UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    public override void DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var bytes = new List<byte>();
        foreach (string t in tokens)
        {
            if (t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>'
                && byte.TryParse(t.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b))
            {
                bytes.Add(b);
                continue;
            }
            Flush(bytes, result);
            result.Add(t);
        }
        Flush(bytes, result);
        tokens.Clear();
        tokens.AddRange(result);
    }

    private static void Flush(List<byte> bytes, List<string> result)
    {
        if (bytes.Count == 0) return;
        try { result.Add(Strict.GetString(bytes.ToArray())); }
        catch (System.Text.DecoderFallbackException) { for (int i = 0; i < bytes.Count; i++) result.Add("\uFFFD"); }
        bytes.Clear();
    }
}
