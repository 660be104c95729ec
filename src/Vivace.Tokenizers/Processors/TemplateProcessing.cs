using System.Text.Json;

namespace Vivace.Tokenizers.Processors;

/// <summary>
/// "TemplateProcessing": a template per single and pair input, made of special tokens (each possibly several
/// ids) and the sequences A and B, each with a type id. Without special tokens the sequences still take the
/// template's type ids.
/// </summary>
internal sealed class TemplateProcessing : IPostProcessor
{
    /// <summary>A template item: a special token (Ids/Tokens) or a sequence (Sequence = 0 for A, 1 for B).</summary>
    internal sealed record TemplatePiece(int Sequence, int TypeId, int[] Ids, string[] Tokens);

    private readonly TemplatePiece[] _single, _pair;

    public TemplateProcessing(TemplatePiece[] single, TemplatePiece[] pair)
    {
        _single = single;
        _pair = pair;
        _addedSingle = single.Where(p => p.Sequence < 0).Sum(p => p.Ids.Length);
        _addedPair = pair.Where(p => p.Sequence < 0).Sum(p => p.Ids.Length);
    }

    private readonly int _addedSingle, _addedPair;

    public int AddedTokens(bool isPair) => isPair ? _addedPair : _addedSingle;

    public void Process(List<TokenEntry> a, List<TokenEntry>? b, bool addSpecialTokens, List<TokenEntry> output)
    {
        foreach (var piece in b == null ? _single : _pair)
        {
            if (piece.Sequence >= 0)
            {
                var seq = piece.Sequence == 0 ? a : b ?? [];
                foreach (var t in seq) output.Add(t with { TypeId = piece.TypeId });
            }
            else if (addSpecialTokens)
            {
                for (int i = 0; i < piece.Ids.Length; i++)
                    output.Add(new TokenEntry(piece.Ids[i], piece.Tokens[i], 0, 0, piece.TypeId, true));
            }
        }
    }

    public static TemplateProcessing FromJson(JsonElement e)
    {
        var specials = new Dictionary<string, (int[] Ids, string[] Tokens)>();
        if (e.TryGetProperty("special_tokens", out var st) && st.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in st.EnumerateObject())
            {
                int[] ids = p.Value.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                string[] tokens = p.Value.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray();
                specials[p.Name] = (ids, tokens);
            }
        }
        return new TemplateProcessing(Parse(e.GetProperty("single"), specials), Parse(e.GetProperty("pair"), specials));
    }

    private static TemplatePiece[] Parse(JsonElement template, Dictionary<string, (int[] Ids, string[] Tokens)> specials)
    {
        var pieces = new List<TemplatePiece>();
        foreach (var item in template.EnumerateArray())
        {
            if (item.TryGetProperty("Sequence", out var seq))
            {
                string id = seq.GetProperty("id").GetString()!;
                pieces.Add(new TemplatePiece(id == "B" ? 1 : 0, JsonRead.Int(seq, "type_id", 0), [], []));
            }
            else if (item.TryGetProperty("SpecialToken", out var sp))
            {
                string id = sp.GetProperty("id").GetString()!;
                if (!specials.TryGetValue(id, out var s))
                    throw new InvalidDataException($"TemplateProcessing uses special token '{id}' missing from special_tokens.");
                pieces.Add(new TemplatePiece(-1, JsonRead.Int(sp, "type_id", 0), s.Ids, s.Tokens));
            }
            else throw new UnsupportedComponentException("post_processor template piece", item.GetRawText());
        }
        return pieces.ToArray();
    }
}
