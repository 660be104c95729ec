using System.Text.Json;

namespace Vivace.Tokenizers.Decoders;

/// <summary>Builds the decoder from tokenizer.json's "decoder" (dispatch on "type").</summary>
internal static class DecoderFactory
{
    public static IDecoder? FromJson(JsonElement e)
    {
        if (JsonRead.IsNull(e)) return null;
        string type = JsonRead.Type(e) ?? "(missing)";
        return type switch
        {
            "WordPiece" => new WordPieceDecoder(JsonRead.String(e, "prefix") ?? "##", JsonRead.Bool(e, "cleanup", true)),
            "Metaspace" => MetaspaceDecoder.FromJson(e),
            "CTC" => CtcDecoder.FromJson(e),
            "Sequence" => SequenceDecoder.FromJson(e),
            _ => throw new UnsupportedComponentException("decoder", type),
        };
    }
}
