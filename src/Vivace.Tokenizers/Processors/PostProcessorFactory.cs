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
            default: throw new UnsupportedComponentException("post_processor", type);
        }
    }
}
