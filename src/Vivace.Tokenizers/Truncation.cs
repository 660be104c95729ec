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
    internal void Apply(List<TokenEntry> a, List<TokenEntry>? b, int maxLength) => Apply(a, b, maxLength, null, null);

    /// <summary>As <see cref="Apply(List{TokenEntry}, List{TokenEntry}?, int)"/>; the windows cut off each sequence
    /// (<see cref="Stride"/> tokens overlapping, as the reference's Encoding::truncate makes them) go to
    /// <paramref name="overflowA"/> / <paramref name="overflowB"/> when given.</summary>
    internal void Apply(List<TokenEntry> a, List<TokenEntry>? b, int maxLength, List<List<TokenEntry>>? overflowA, List<List<TokenEntry>>? overflowB)
    {
        if (maxLength <= 0)
        {
            Cut(a, 0, overflowA);
            if (b != null) Cut(b, 0, overflowB);
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
                Cut(a, n1, overflowA);
                Cut(b, n2, overflowB);
                break;
            }
            case TruncationStrategy.LongestFirst:
                Cut(a, maxLength, overflowA);
                break;
            default:
            {
                var target = Strategy == TruncationStrategy.OnlyFirst ? a
                    : b ?? throw new InvalidOperationException("Truncation error: Second sequence not provided");
                if (target.Count <= toRemove)
                    throw new InvalidOperationException("Truncation error: Sequence to truncate too short to respect the provided max_length");
                Cut(target, target.Count - toRemove, target == a ? overflowA : overflowB);
                break;
            }
        }
    }

    private void Cut(List<TokenEntry> list, int keep, List<List<TokenEntry>>? overflow)
    {
        int n = list.Count;
        if (n <= keep) return;
        if (overflow != null)
        {
            if (keep == 0)
            {
                overflow.Add([.. list]);
                list.Clear();
                return;
            }
            if (Stride >= keep)
                throw new InvalidOperationException($"Truncation error: stride ({Stride}) must be strictly less than max_length ({keep}) (max_length excludes the special tokens)");
            int step = keep - Stride;
            var parts = new List<(int Start, int Stop)>();
            if (Direction == TruncationDirection.Right)
            {
                for (int start = 0; start < n; start += step)
                {
                    int stop = Math.Min(start + keep, n);
                    parts.Add((start, stop));
                    if (stop == n) break;
                }
            }
            else
            {
                for (int last = n - 1; last >= 0; last -= step)
                {
                    int stop = last + 1, start = Math.Max(0, stop - keep);
                    parts.Add((start, stop));
                    if (start == 0) break;
                }
            }
            for (int i = 1; i < parts.Count; i++) overflow.Add(list.GetRange(parts[i].Start, parts[i].Stop - parts[i].Start));
            var (s0, e0) = parts[0];
            list.RemoveRange(e0, n - e0);
            list.RemoveRange(0, s0);
            return;
        }
        if (Direction == TruncationDirection.Right) list.RemoveRange(keep, list.Count - keep);
        else list.RemoveRange(0, list.Count - keep);
    }
}
