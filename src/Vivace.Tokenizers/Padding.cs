namespace Vivace.Tokenizers;

public enum PaddingStrategy { BatchLongest, Fixed }

public enum PaddingDirection { Right, Left }

/// <summary>Padding as tokenizer.json's "padding". BatchLongest pads a batch to its longest member (and a
/// single encoding to its own length), then up to a multiple of <see cref="PadToMultipleOf"/>.</summary>
public sealed record PaddingOptions(
    PaddingStrategy Strategy = PaddingStrategy.BatchLongest,
    int FixedLength = 0,
    int? PadToMultipleOf = null,
    PaddingDirection Direction = PaddingDirection.Right,
    int PadId = 0,
    int PadTypeId = 0,
    string PadToken = "[PAD]")
{
    internal static PaddingOptions? FromJson(System.Text.Json.JsonElement e)
    {
        if (JsonRead.IsNull(e)) return null;
        var strategy = PaddingStrategy.BatchLongest;
        int fixedLength = 0;
        if (e.TryGetProperty("strategy", out var s) && s.ValueKind == System.Text.Json.JsonValueKind.Object
            && s.TryGetProperty("Fixed", out var f))
        {
            strategy = PaddingStrategy.Fixed;
            fixedLength = f.GetInt32();
        }
        return new PaddingOptions(
            strategy,
            fixedLength,
            JsonRead.NullableInt(e, "pad_to_multiple_of"),
            JsonRead.String(e, "direction") == "Left" ? PaddingDirection.Left : PaddingDirection.Right,
            JsonRead.Int(e, "pad_id", 0),
            JsonRead.Int(e, "pad_type_id", 0),
            JsonRead.String(e, "pad_token") ?? "[PAD]");
    }

    /// <summary>The length to pad to, given the longest encoding of the batch.</summary>
    internal int TargetLength(int longest)
    {
        int n = Strategy == PaddingStrategy.Fixed ? FixedLength : longest;
        if (PadToMultipleOf is int m && m > 0 && n % m != 0) n += m - n % m;
        return n;
    }

    internal void Pad(List<TokenEntry> list, int target)
    {
        if (list.Count >= target) return;
        var pad = new TokenEntry(PadId, PadToken, 0, 0, PadTypeId, Special: true, Padding: true);
        if (Direction == PaddingDirection.Right)
            for (int i = list.Count; i < target; i++) list.Add(pad);
        else
            list.InsertRange(0, Enumerable.Repeat(pad, target - list.Count));
    }
}
