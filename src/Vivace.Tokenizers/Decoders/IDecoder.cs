namespace Vivace.Tokenizers.Decoders;

/// <summary>Turns token strings back into text.</summary>
internal interface IDecoder
{
    string Decode(IReadOnlyList<string> tokens);
}
