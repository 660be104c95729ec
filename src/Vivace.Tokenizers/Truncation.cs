namespace Vivace.Tokenizers;

public enum TruncationStrategy { LongestFirst, OnlyFirst, OnlySecond }

public enum TruncationDirection { Right, Left }

/// <summary>Truncation as tokenizer.json's "truncation": <see cref="MaxLength"/> counts the special tokens
/// the post-processor adds.</summary>
public sealed record TruncationOptions(
    int MaxLength,
    TruncationStrategy Strategy = TruncationStrategy.LongestFirst,
    TruncationDirection Direction = TruncationDirection.Right,
    int Stride = 0)
{
    internal static TruncationOptions? FromJson(System.Text.Json.JsonElement e)
    {
        if (JsonRead.IsNull(e)) return null;
        return new TruncationOptions(
            JsonRead.Int(e, "max_length", 512),
            JsonRead.String(e, "strategy") switch
            {
                null or "LongestFirst" => TruncationStrategy.LongestFirst,
                "OnlyFirst" => TruncationStrategy.OnlyFirst,
                "OnlySecond" => TruncationStrategy.OnlySecond,
                var s => throw new UnsupportedComponentException("truncation strategy", s),
            },
            JsonRead.String(e, "direction") == "Left" ? TruncationDirection.Left : TruncationDirection.Right,
            JsonRead.Int(e, "stride", 0));
    }

    /// <summary>Truncates the sequence encodings (before special tokens are added) to
    /// <paramref name="maxLength"/> tokens in all, the way the reference splits the budget of a pair.</summary>
    internal void Apply(List<TokenEntry> a, List<TokenEntry>? b, int maxLength)
    {
        if (maxLength <= 0)
        {
            Cut(a, 0);
            if (b != null) Cut(b, 0);
            return;
        }
        int total = a.Count + (b?.Count ?? 0);
        if (total <= maxLength) return;
        int toRemove = total - maxLength;
        switch (Strategy)
        {
            case TruncationStrategy.LongestFirst when b != null:
            {
                int n1 = a.Count, n2 = b.Count;
                bool swap = n1 > n2;
                if (swap) (n1, n2) = (n2, n1);
                n2 = n1 > maxLength ? n1 : Math.Max(n1, maxLength - n1);
                if (n1 + n2 > maxLength)
                {
                    n1 = maxLength / 2;
                    n2 = n1 + maxLength % 2;
                }
                if (swap) (n1, n2) = (n2, n1);
                Cut(a, n1);
                Cut(b, n2);
                break;
            }
            case TruncationStrategy.LongestFirst:
                Cut(a, maxLength);
                break;
            default:
            {
                var target = Strategy == TruncationStrategy.OnlyFirst ? a
                    : b ?? throw new InvalidOperationException("Truncation error: Second sequence not provided");
                if (target.Count <= toRemove)
                    throw new InvalidOperationException("Truncation error: Sequence to truncate too short to respect the provided max_length");
                Cut(target, target.Count - toRemove);
                break;
            }
        }
    }

    private void Cut(List<TokenEntry> list, int keep)
    {
        if (list.Count <= keep) return;
        if (Direction == TruncationDirection.Right) list.RemoveRange(keep, list.Count - keep);
        else list.RemoveRange(0, list.Count - keep);
    }
}
