namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>Applies pre-tokenizers in order, each to every piece the previous one produced ("Sequence").</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<IPreTokenizer> preTokenizers) : IPreTokenizer
{
    public IReadOnlyList<IPreTokenizer> PreTokenizers { get; } = preTokenizers;

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output)
    {
        var current = new List<Piece> { piece };
        var next = new List<Piece>();
        foreach (var p in PreTokenizers)
        {
            next.Clear();
            foreach (var s in current) p.Split(text, s, next);
            (current, next) = (next, current);
        }
        output.AddRange(current);
    }
}
