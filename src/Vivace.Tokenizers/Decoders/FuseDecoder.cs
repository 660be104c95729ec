namespace Vivace.Tokenizers.Decoders;

/// <summary>"Fuse": all tokens become one.</summary>
internal sealed class FuseDecoder : ChainDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        string all = string.Concat(tokens);
        tokens.Clear();
        tokens.Add(all);
    }
}
