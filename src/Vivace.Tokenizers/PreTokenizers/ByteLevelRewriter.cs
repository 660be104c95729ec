namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>
/// ByteLevel as a member of a Sequence that goes on after it (Falcon: Punctuation, ByteLevel, Digits, Split):
/// the members after it must see the byte-mapped characters, as the reference's do, so here the mapping rewrites
/// the text (each mapped character aligned to the character it came from) instead of happening just before the
/// model. Pieces outside the regex matches are dropped, as ByteLevel drops them.
/// </summary>
internal sealed class ByteLevelRewriter(ByteLevelPreTokenizer byteLevel) : IRewritingPreTokenizer
{
    public ByteLevelPreTokenizer ByteLevel { get; } = byteLevel;

    /// <summary>Whether <paramref name="p"/> is a Sequence that maps bytes in place this way (still a byte-level vocabulary).</summary>
    public static bool IsIn(IPreTokenizer? p) => p is RewritingSequencePreTokenizer s && s.PreTokenizers.Any(m => m is ByteLevelRewriter);

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output) =>
        throw new InvalidOperationException("A rewriting pre-tokenizer runs through Rewrite.");

    public void Rewrite(NormalizedString text, List<Piece> pieces)
    {
        var split = PieceBuffers.Rent();
        foreach (var piece in pieces) ByteLevel.Split(text.Normalized, piece, split);

        var source = text.Normalized;
        var table = ByteLevelTable.ByteToChar;
        text.BeginRewrite(source.Length * 3 + split.Count + 1);
        pieces.Clear();
        Span<byte> utf8 = stackalloc byte[4];
        int written = 0;
        foreach (var piece in split)
        {
            int start = written;
            if (piece.PrefixSpace && source.Length > 0)
            {
                // The added space has no source of its own: align it with the piece's first character.
                text.Emit(table[' '], Math.Min(piece.Start, source.Length - 1));
                written++;
            }
            for (int i = piece.Start; i < piece.End;)
            {
                char c = source[i];
                int width = char.IsHighSurrogate(c) && i + 1 < piece.End && char.IsLowSurrogate(source[i + 1]) ? 2 : 1;
                var rune = width == 2 ? new System.Text.Rune(c, source[i + 1])
                    : char.IsSurrogate(c) ? System.Text.Rune.ReplacementChar : new System.Text.Rune(c);
                int bytes = rune.EncodeToUtf8(utf8);
                for (int k = 0; k < bytes; k++) text.Emit(table[utf8[k]], i, width);
                written += bytes;
                i += width;
            }
            if (written > start) pieces.Add(new Piece(start, written));
        }
        text.EndRewrite();
        PieceBuffers.Return(split);
    }
}
