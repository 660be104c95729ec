using System.Text.Json;

namespace Vivace.Tokenizers.Normalizers;

/// <summary>Builds a normalizer from tokenizer.json's "normalizer" (dispatch on "type").</summary>
internal static class NormalizerFactory
{
    public static INormalizer? FromJson(JsonElement e)
    {
        if (JsonRead.IsNull(e)) return null;
        string type = JsonRead.Type(e) ?? "(missing)";
        switch (type)
        {
            case "BertNormalizer":
                bool lowercase = JsonRead.Bool(e, "lowercase", true);
                return new BertNormalizer(
                    JsonRead.Bool(e, "clean_text", true),
                    JsonRead.Bool(e, "handle_chinese_chars", true),
                    JsonRead.NullableBool(e, "strip_accents") ?? lowercase,
                    lowercase);
            case "Sequence":
                var list = new List<INormalizer>();
                foreach (var item in e.GetProperty("normalizers").EnumerateArray())
                    if (FromJson(item) is { } n) list.Add(n);
                return new SequenceNormalizer(list);
            case "Lowercase": return new LowercaseNormalizer();
            case "StripAccents": return new StripAccentsNormalizer();
            case "NFD": return new NfdNormalizer();
            case "Replace": return ReplaceNormalizer.FromJson(e);
            case "Prepend": return new PrependNormalizer(JsonRead.String(e, "prepend") ?? "");
            case "Precompiled": return PrecompiledNormalizer.FromJson(e);
            case "NFC": return new UnicodeFormNormalizer(compatibility: false, compose: true);
            case "NFKC": return new UnicodeFormNormalizer(compatibility: true, compose: true);
            case "NFKD": return new UnicodeFormNormalizer(compatibility: true, compose: false);
            case "Strip": return new StripNormalizer(JsonRead.Bool(e, "strip_left", true), JsonRead.Bool(e, "strip_right", true));
            default: throw new UnsupportedComponentException("normalizer", type);
        }
    }
}
