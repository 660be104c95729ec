namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>A piece of normalized text, [Start, End) in UTF-16 units of the normalized string.
/// <paramref name="PrefixSpace"/>: the model sees a space before it (ByteLevel add_prefix_space).</summary>
internal readonly record struct Piece(int Start, int End, bool PrefixSpace = false);

/// <summary>Splits normalized text into words; each call refines one existing piece.</summary>
internal interface IPreTokenizer
{
    /// <summary>Appends the pieces of <paramref name="text"/>[<paramref name="piece"/>] to <paramref name="output"/>.</summary>
    void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output);
}
