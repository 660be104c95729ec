namespace Vivace.Tokenizers.Decoders;

/// <summary>"BPEDecoder": the end-of-word suffix becomes a space (nothing on the last token).</summary>
internal sealed class BpeDecoder(string suffix) : ChainDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        if (suffix.Length == 0) return;
        for (int i = 0; i < tokens.Count; i++)
            tokens[i] = tokens[i].Replace(suffix, i == tokens.Count - 1 ? "" : " ", StringComparison.Ordinal);
    }
}
