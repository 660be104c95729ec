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
            "ByteLevel" => new ByteLevelDecoder(),
            "BPEDecoder" => new BpeDecoder(JsonRead.String(e, "suffix") ?? "</w>"),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Replace" => new ReplaceDecoder(Normalizers.ReplaceNormalizer.PatternFromJson(e.GetProperty("pattern")), JsonRead.String(e, "content") ?? ""),
            "Strip" => new StripDecoder(JsonRead.String(e, "content") ?? " ", JsonRead.Int(e, "start", 0), JsonRead.Int(e, "stop", 0)),
            "Metaspace" => MetaspaceDecoder.FromJson(e),
            "CTC" => CtcDecoder.FromJson(e),
            "Sequence" => SequenceDecoder.FromJson(e),
            _ => throw new UnsupportedComponentException("decoder", type),
        };
    }
}
