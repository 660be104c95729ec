namespace Vivace.Tokenizers;

/// <summary>Overflowing encodings: the windows truncation cuts off, post-processed and padded like the main one.</summary>
public sealed partial class Tokenizer
{
    /// <summary>The reference's merge order: for a single sequence, each window of A; for a pair, each window a of
    /// A with B, then a with each window b of B, and finally A with each window b of B.</summary>
    private void AddOverflowing(List<TokenEntry> a, List<TokenEntry>? b, List<List<TokenEntry>> overA, List<List<TokenEntry>> overB,
        bool addSpecialTokens, List<List<TokenEntry>> result)
    {
        List<TokenEntry> Process(List<TokenEntry> x, List<TokenEntry>? y)
        {
            var output = new List<TokenEntry>(x.Count + (y?.Count ?? 0) + 4);
            _postProcessor.Process(x, y, addSpecialTokens, output);
            return output;
        }
        if (b is null)
        {
            foreach (var wa in overA) result.Add(Process(wa, null));
            return;
        }
        foreach (var wa in overA)
        {
            result.Add(Process(wa, b));
            foreach (var wb in overB) result.Add(Process(wa, wb));
        }
        foreach (var wb in overB) result.Add(Process(a, wb));
    }

    /// <summary>Encodes <paramref name="text"/> (and <paramref name="pair"/>) with the windows truncation cuts off
    /// in <see cref="Encoding.Overflowing"/> (stride tokens overlapping between windows), as the reference's
    /// encode returns them. Without truncation there is nothing to overflow.</summary>
    public Encoding EncodeWithOverflowing(string text, string? pair = null, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Without truncation nothing overflows; the tokens are copied into the Encoding before this thread encodes again.
        var overflowing = Truncation is null ? null : new List<List<TokenEntry>>();
        var entries = EncodeEntries(text, pair, addSpecialTokens, overflowing, intoScratch: true);
        int target = Padding?.TargetLength(entries.Count) ?? 0;
        Padding?.Pad(entries, target);
        var encoding = ToEncoding(entries);
        if (overflowing is null) return encoding;
        var overflow = new Encoding[overflowing.Count];
        for (int i = 0; i < overflow.Length; i++)
        {
            Padding?.Pad(overflowing[i], target);
            overflow[i] = ToEncoding(overflowing[i]);
        }
        encoding.Overflowing = overflow;
        return encoding;
    }
}
