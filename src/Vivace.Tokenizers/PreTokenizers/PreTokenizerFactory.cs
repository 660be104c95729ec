using System.Text.Json;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>Builds a pre-tokenizer from tokenizer.json's "pre_tokenizer" (dispatch on "type").</summary>
internal static class PreTokenizerFactory
{
    public static IPreTokenizer? FromJson(JsonElement e)
    {
        if (JsonRead.IsNull(e)) return null;
        string type = JsonRead.Type(e) ?? "(missing)";
        switch (type)
        {
            case "BertPreTokenizer": return new BertPreTokenizer();
            case "WhitespaceSplit": return new WhitespaceSplitPreTokenizer();
            case "ByteLevel": return new ByteLevelPreTokenizer(JsonRead.Bool(e, "add_prefix_space", true), JsonRead.Bool(e, "use_regex", true));
            case "Split": return SplitPreTokenizer.FromJson(e);
            case "Metaspace": return MetaspacePreTokenizer.FromJson(e);
            case "Whitespace": return new WhitespacePreTokenizer();
            case "Punctuation": return PunctuationPreTokenizer.FromJson(e);
            case "Digits": return new DigitsPreTokenizer(JsonRead.Bool(e, "individual_digits", false));
            case "CharDelimiterSplit": return CharDelimiterSplitPreTokenizer.FromJson(e);
            case "UnicodeScripts": return new UnicodeScriptsPreTokenizer();
            case "Sequence":
                var list = new List<IPreTokenizer>();
                foreach (var item in e.GetProperty("pretokenizers").EnumerateArray())
                    if (FromJson(item) is { } p) list.Add(p);
                // A ByteLevel with members after it maps the text itself, so those members see mapped characters.
                for (int i = 0; i < list.Count - 1; i++)
                    if (list[i] is ByteLevelPreTokenizer byteLevel) list[i] = new ByteLevelRewriter(byteLevel);
                return RewritingSequencePreTokenizer.Create(list);
            default: throw new UnsupportedComponentException("pre_tokenizer", type);
        }
    }
}
