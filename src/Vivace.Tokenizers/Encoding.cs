namespace Vivace.Tokenizers;

/// <summary>
/// The result of encoding one input (a sequence or a pair), after post-processing, truncation and padding.
/// Offsets are UTF-16 ranges into the original input string the token came from (for a pair, into that
/// sequence's own string); special and padding tokens have (0, 0).
/// </summary>
public sealed class Encoding
{
    internal Encoding(int[] ids, int[] typeIds, int[] attentionMask, string[] tokens, (int Start, int End)[] offsets, int[] specialTokensMask)
    {
        Ids = ids;
        TypeIds = typeIds;
        AttentionMask = attentionMask;
        Tokens = tokens;
        Offsets = offsets;
        SpecialTokensMask = specialTokensMask;
    }

    public int[] Ids { get; }
    public int[] TypeIds { get; }
    public int[] AttentionMask { get; }
    public string[] Tokens { get; }
    public (int Start, int End)[] Offsets { get; }
    public int[] SpecialTokensMask { get; }

    public int Length => Ids.Length;

    /// <summary>The windows truncation cut off (each with the special tokens and padding of the main one),
    /// in the reference's order; empty when nothing was truncated.</summary>
    public IReadOnlyList<Encoding> Overflowing { get; internal set; } = [];

    public override string ToString() => string.Join(' ', Tokens);
}

/// <summary>One token while an encoding is being assembled.</summary>
internal readonly record struct TokenEntry(int Id, string Token, int Start, int End, int TypeId, bool Special, bool Padding = false);
