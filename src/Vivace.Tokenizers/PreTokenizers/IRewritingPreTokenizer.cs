namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>
/// A pre-tokenizer that also changes the text of its pieces (Metaspace replaces spaces and prepends "▁"),
/// so it works on a <see cref="NormalizedString"/> of its own: alignments to the original text survive.
/// </summary>
internal interface IRewritingPreTokenizer : IPreTokenizer
{
    /// <summary>Refines <paramref name="pieces"/> (ranges of <paramref name="text"/>) and may rewrite the text;
    /// on return the pieces index the rewritten text. Text outside every piece may be dropped.</summary>
    void Rewrite(NormalizedString text, List<Piece> pieces);
}

/// <summary>A "Sequence" with at least one rewriting member: plain members split each piece, rewriting ones
/// rewrite the text, in order.</summary>
internal sealed class RewritingSequencePreTokenizer(IReadOnlyList<IPreTokenizer> preTokenizers) : IRewritingPreTokenizer
{
    /// <summary>An array, so the per-encode loops over it allocate no enumerator.</summary>
    public IPreTokenizer[] PreTokenizers { get; } = [.. preTokenizers];

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output) =>
        throw new InvalidOperationException("A rewriting pre-tokenizer runs through Rewrite.");

    public void Rewrite(NormalizedString text, List<Piece> pieces)
    {
        var next = PieceBuffers.Rent();
        foreach (var p in PreTokenizers)
        {
            if (p is IRewritingPreTokenizer r) { r.Rewrite(text, pieces); continue; }
            next.Clear();
            var s = text.Normalized;
            foreach (var piece in pieces) p.Split(s, piece, next);
            pieces.Clear();
            pieces.AddRange(next);
        }
        PieceBuffers.Return(next);
    }

    /// <summary>Sequence for the factory: rewriting when any member rewrites.</summary>
    public static IPreTokenizer Create(List<IPreTokenizer> list) =>
        list.Any(p => p is IRewritingPreTokenizer) ? new RewritingSequencePreTokenizer(list) : new SequencePreTokenizer(list);
}
