namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>Applies pre-tokenizers in order, each to every piece the previous one produced ("Sequence").</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> preTokenizers) : IPreTokenizer
{
    /// <summary>An array, so the per-encode loops over it allocate no enumerator.</summary>
    public IPreTokenizer[] PreTokenizers { get; } = [.. preTokenizers];

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output)
    {
        var current = PieceBuffers.Rent();
        var next = PieceBuffers.Rent();
        current.Add(piece);
        foreach (var p in PreTokenizers)
        {
            next.Clear();
            foreach (var s in current) p.Split(text, s, next);
            (current, next) = (next, current);
        }
        output.AddRange(current);
        PieceBuffers.Return(next);
        PieceBuffers.Return(current);
    }
}
