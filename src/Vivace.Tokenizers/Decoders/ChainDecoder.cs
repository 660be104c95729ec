namespace Vivace.Tokenizers.Decoders;

/// <summary>A decoder that rewrites the token list in place (the reference's decode_chain), so decoders
/// can be chained; the text is the concatenation of what is left.</summary>
internal abstract class ChainDecoder : IDecoder
{
    public abstract void DecodeChain(List<string> tokens);

    IReadOnlyList<string> IDecoder.DecodeChain(IReadOnlyList<string> tokens)
    {
        var list = new List<string>(tokens);
        DecodeChain(list);
        return list;
    }

    public string Decode(IReadOnlyList<string> tokens)
    {
        var list = new List<string>(tokens);
        DecodeChain(list);
        return string.Concat(list);
    }
}
