namespace Vivace.Tokenizers;

/// <summary>
/// The result of encoding one input (a sequence or a pair), after post-processing, truncation and padding.
/// Offsets are UTF-16 ranges into the original input string the token came from (for a pair, into that
/// sequence's own string); special and padding tokens have (0, 0).
/// </summary>
public sealed class Encoding
{
    private readonly TokenEntry[] _entries;
    private int[]? _typeIds, _attentionMask, _specialTokensMask;
    private string[]? _tokens;
    private (int Start, int End)[]? _offsets;

    /// <summary>Ids are made now; the other views on first use (most callers want ids only).</summary>
    internal Encoding(TokenEntry[] entries)
    {
        _entries = entries;
        Ids = new int[entries.Length];
        for (int i = 0; i < entries.Length; i++) Ids[i] = entries[i].Id;
    }

    public int[] Ids { get; }
    public int[] TypeIds => _typeIds ??= Array.ConvertAll(_entries, e => e.TypeId);
    public int[] AttentionMask => _attentionMask ??= Array.ConvertAll(_entries, e => e.Padding ? 0 : 1);
    public string[] Tokens => _tokens ??= Array.ConvertAll(_entries, e => e.Token);
    public (int Start, int End)[] Offsets => _offsets ??= Array.ConvertAll(_entries, e => (e.Start, e.End));
    public int[] SpecialTokensMask => _specialTokensMask ??= Array.ConvertAll(_entries, e => e.Special ? 1 : 0);

    public int Length => Ids.Length;

    /// <summary>The windows truncation cut off (each with the special tokens and padding of the main one),
    /// in the reference's order; empty when nothing was truncated.</summary>
    public IReadOnlyList<Encoding> Overflowing { get; internal set; } = [];

    public override string ToString() => string.Join(' ', Tokens);
}

/// <summary>One token while an encoding is being assembled.</summary>
internal readonly record struct TokenEntry(int Id, string Token, int Start, int End, int TypeId, bool Special, bool Padding = false);
