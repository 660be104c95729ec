using Vivace.Tokenizers.PreTokenizers;

namespace Vivace.Tokenizers.Gguf;

/// <summary>The Llama-2 SentencePiece front end: every space becomes "▁" and "▁" is prepended to each non-empty
/// segment (the reference's Prepend + Replace normalizers); the segment stays one piece.</summary>
internal sealed class SpmSpacePreTokenizer(bool addSpacePrefix) : IRewritingPreTokenizer
{
    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output) =>
        throw new InvalidOperationException("SpmSpacePreTokenizer runs through Rewrite.");

    public void Rewrite(NormalizedString text, List<Piece> pieces)
    {
        var src = text.Normalized;
        int n = src.Length;
        pieces.Clear();
        if (n == 0) return;
        text.BeginRewrite(n + 1);
        if (addSpacePrefix) text.Emit('\u2581', 0);
        for (int i = 0; i < n; i++) text.Emit(src[i] == ' ' ? '\u2581' : src[i], i);
        text.EndRewrite();
        pieces.Add(new Piece(0, text.Length));
    }
}
