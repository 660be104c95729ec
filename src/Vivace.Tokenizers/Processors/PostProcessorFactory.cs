using System.Text.Json;

namespace Vivace.Tokenizers.Processors;

/// <summary>Builds the post-processor from tokenizer.json's "post_processor" (dispatch on "type").</summary>
internal static class PostProcessorFactory
{
    public static IPostProcessor? FromJson(JsonElement e)
    {
        if (JsonRead.IsNull(e)) return null;
        string type = JsonRead.Type(e) ?? "(missing)";
        switch (type)
        {
            case "TemplateProcessing": return TemplateProcessing.FromJson(e);
            case "BertProcessing":
                var sep = e.GetProperty("sep");
                var cls = e.GetProperty("cls");
                return new BertProcessing(sep[0].GetString()!, sep[1].GetInt32(), cls[0].GetString()!, cls[1].GetInt32());
            case "ByteLevel": return new ByteLevelProcessing(JsonRead.Bool(e, "trim_offsets", true), JsonRead.Bool(e, "add_prefix_space", true));
            case "RobertaProcessing": return RobertaFromJson(e);
            case "Sequence": return new SequenceProcessing(e.GetProperty("processors").EnumerateArray().Select(FromJson).OfType<IPostProcessor>().ToList());
            default: throw new UnsupportedComponentException("post_processor", type);
        }
    }

    private static RobertaProcessing RobertaFromJson(JsonElement e)
    {
        var sep = e.GetProperty("sep");
        var cls = e.GetProperty("cls");
        return new RobertaProcessing(sep[0].GetString()!, sep[1].GetInt32(), cls[0].GetString()!, cls[1].GetInt32(),
            JsonRead.Bool(e, "trim_offsets", true), JsonRead.Bool(e, "add_prefix_space", true));
    }
}
