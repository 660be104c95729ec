using System.Text.Json;

namespace Vivace.Tokenizers.Models;

/// <summary>Builds the model from tokenizer.json's "model" (dispatch on "type"; legacy files without a type
/// are recognised by their fields).</summary>
internal static class ModelFactory
{
    public static IModel FromJson(JsonElement e)
    {
        string? type = JsonRead.Type(e);
        if (type is null)
        {
            if (e.TryGetProperty("merges", out _)) type = "BPE";
            else if (e.TryGetProperty("vocab", out var v) && v.ValueKind == JsonValueKind.Array) type = "Unigram";
            else if (e.TryGetProperty("continuing_subword_prefix", out _) || e.TryGetProperty("max_input_chars_per_word", out _)) type = "WordPiece";
            else if (e.TryGetProperty("vocab", out _)) type = "WordLevel";
            else type = "(missing)";
        }
        switch (type)
        {
            case "WordPiece":
                var entries = new List<KeyValuePair<string, int>>();
                foreach (var p in e.GetProperty("vocab").EnumerateObject())
                    entries.Add(new(p.Name, p.Value.GetInt32()));
                return new WordPiece(
                    new Vocabulary(entries),
                    JsonRead.String(e, "unk_token") ?? "[UNK]",
                    JsonRead.String(e, "continuing_subword_prefix") ?? "##",
                    JsonRead.Int(e, "max_input_chars_per_word", 100));
            case "BPE": return Bpe.FromJson(e);
            case "Unigram": return Unigram.FromJson(e);
            case "WordLevel": return WordLevel.FromJson(e);
            default: throw new UnsupportedComponentException("model", type);
        }
    }
}
