namespace Vivace.Tokenizers.Decoders;

/// <summary>Turns token strings back into text.</summary>
internal interface IDecoder
{
    string Decode(IReadOnlyList<string> tokens);

    /// <summary>The reference's decode_chain: the tokens after this decoder, to be concatenated (or fed to the
    /// next decoder of a Sequence). By default the whole decoded text as one string.</summary>
    IReadOnlyList<string> DecodeChain(IReadOnlyList<string> tokens) => [Decode(tokens)];
}
