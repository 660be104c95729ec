using Vivace.Tokenizers.AddedTokens;
using Vivace.Tokenizers.Decoders;
using Vivace.Tokenizers.Gguf;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.Normalizers;
using Vivace.Tokenizers.PreTokenizers;
using Vivace.Tokenizers.Processors;

namespace Vivace.Tokenizers;

/// <summary>Building a tokenizer from the vocabulary in a GGUF file's metadata (tokenizer.ggml.*).</summary>
public sealed partial class Tokenizer
{
    /// <summary>GGUF token types (llama.cpp's llama_token_type).</summary>
    private const int GgufNormal = 1, GgufUnknown = 2, GgufControl = 3, GgufUserDefined = 4, GgufUnused = 5, GgufByte = 6;

    /// <summary>
    /// A tokenizer from a GGUF file's vocabulary. "bert" becomes the BERT WordPiece pipeline (llama.cpp
    /// stores word-initial pieces with a leading U+2581 and continuation pieces bare; they are mapped back to
    /// bare and "##" pieces). Control tokens become special added tokens. Other tokenizer.ggml.model values
    /// throw <see cref="UnsupportedComponentException"/>.
    /// </summary>
    public static Tokenizer FromGguf(string path) => FromGguf(GgufMetadata.Read(path));

    public static Tokenizer FromGguf(GgufMetadata gguf)
    {
        string model = gguf.GetString("tokenizer.ggml.model") ?? throw new InvalidDataException("GGUF has no tokenizer.ggml.model.");
        var tokens = gguf.GetArray<string>("tokenizer.ggml.tokens") ?? throw new InvalidDataException("GGUF has no tokenizer.ggml.tokens.");
        var types = gguf.GetArray<int>("tokenizer.ggml.token_type");
        return model switch
        {
            "bert" => GgufBert(gguf, tokens, types),
            _ => throw new UnsupportedComponentException("GGUF tokenizer.ggml.model", model),
        };
    }

    private static int TypeOf(int[]? types, int id) => types != null && id < types.Length ? types[id] : GgufNormal;

    private static Tokenizer GgufBert(GgufMetadata gguf, string[] tokens, int[]? types)
    {
        var entries = new List<KeyValuePair<string, int>>(tokens.Length);
        var specials = new List<AddedToken>();
        for (int id = 0; id < tokens.Length; id++)
        {
            string t = tokens[id];
            int type = TypeOf(types, id);
            string piece;
            if (type is GgufControl or GgufUnknown or GgufUserDefined) piece = t;
            else if (t.StartsWith('\u2581')) piece = t[1..];
            else if (t.Length > 2 && t[0] == '[' && t[^1] == ']') piece = t; // [unusedN]
            else piece = "##" + t;
            entries.Add(new(piece, id));
            if (type == GgufControl || type == GgufUnknown) specials.Add(new AddedToken(id, piece, Special: true, Normalized: false));
        }
        var vocab = new Vocabulary(entries);
        string Token(string key, string fallback) =>
            gguf.GetInt(key) is long id && id >= 0 && id < tokens.Length ? entries[(int)id].Key : fallback;
        string unk = Token("tokenizer.ggml.unknown_token_id", "[UNK]");
        string cls = Token("tokenizer.ggml.cls_token_id", "[CLS]");
        string sep = Token("tokenizer.ggml.seperator_token_id", "[SEP]");
        var wordPiece = new WordPiece(vocab, unk, "##", 100);
        IPostProcessor? post = vocab.TryGetId(cls, out int clsId) && vocab.TryGetId(sep, out int sepId)
            ? new BertProcessing(sep, sepId, cls, clsId)
            : null;
        return new Tokenizer(new BertNormalizer(true, true, true, true), new BertPreTokenizer(), wordPiece, post,
            new WordPieceDecoder("##", cleanup: true), new AddedVocabulary(specials, null), truncation: null, padding: null);
    }
}
