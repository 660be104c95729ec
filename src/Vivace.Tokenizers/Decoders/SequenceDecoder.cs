namespace Vivace.Tokenizers.Decoders;

/// <summary>"Sequence": each decoder rewrites the token list in turn.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<IDecoder> decoders) : ChainDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        foreach (var d in decoders)
        {
            if (d is ChainDecoder chain) chain.DecodeChain(tokens);
            else
            {
                string text = d.Decode(tokens);
                tokens.Clear();
                tokens.Add(text);
            }
        }
    }
}
