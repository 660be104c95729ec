namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>
/// Per-thread piece lists for pre-tokenizers that need working lists (Sequence, ByteLevel inside a Sequence),
/// so a steady-state encode allocates none. Rented and returned in stack order, which nesting (a Sequence
/// inside a Sequence) keeps.
/// </summary>
internal static class PieceBuffers
{
    [ThreadStatic] private static List<List<Piece>>? t_free;

    public static List<Piece> Rent()
    {
        var free = t_free ??= [];
        if (free.Count == 0) return [];
        var list = free[^1];
        free.RemoveAt(free.Count - 1);
        return list;
    }

    public static void Return(List<Piece> list)
    {
        list.Clear();
        (t_free ??= []).Add(list);
    }
}
