using Vivace.Tokenizers.AddedTokens;
using Vivace.Tokenizers.Decoders;
using Vivace.Tokenizers.Gguf;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.Normalizers;
using Vivace.Tokenizers.PreTokenizers;
using Vivace.Tokenizers.Processors;
using Vivace.Tokenizers.SentencePiece;
using Vivace.Tokenizers.Unicode;

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
            "llama" => GgufLlama(gguf, tokens, types),
            "gpt2" => GgufGpt2(gguf, tokens, types),
            _ => throw new UnsupportedComponentException("GGUF tokenizer.ggml.model", model),
        };
    }

    /// <summary>
    /// "gpt2" (byte-level BPE): tokens and merges from the metadata, the pre-tokenizer regexes llama.cpp uses for
    /// tokenizer.ggml.pre (each splitting the previous one's pieces, matches isolated) before the byte-level
    /// mapping, control and user-defined tokens as added tokens (control ones special), BOS/EOS as add_bos_token /
    /// add_eos_token say (or llama.cpp's default for the pre-tokenizer).
    /// </summary>
    private static Tokenizer GgufGpt2(GgufMetadata gguf, string[] tokens, int[]? types)
    {
        string name = gguf.GetString("tokenizer.ggml.pre") ?? "default";
        GgufBpePreTokenizer pre = GgufBpePreTokenizer.ForName(name) ?? throw new UnsupportedComponentException("GGUF tokenizer.ggml.pre", name);
        var mergeLines = gguf.GetArray<string>("tokenizer.ggml.merges") ?? throw new InvalidDataException("GGUF has no tokenizer.ggml.merges.");
        var entries = new List<KeyValuePair<string, int>>(tokens.Length);
        var specials = new List<AddedToken>();
        for (int id = 0; id < tokens.Length; id++)
        {
            entries.Add(new(tokens[id], id));
            int type = TypeOf(types, id);
            if (type is GgufControl or GgufUserDefined)
                specials.Add(new AddedToken(id, tokens[id], Special: type == GgufControl, Normalized: false));
        }
        var merges = new List<(string, string)>(mergeLines.Length);
        foreach (string line in mergeLines)
        {
            int sp = line.IndexOf(' ');
            if (sp > 0) merges.Add((line[..sp], line[(sp + 1)..]));
        }
        return new Tokenizer(null, pre.Build(), new Bpe(new Vocabulary(entries), merges, ignoreMerges: pre.IgnoreMerges),
            GgufTemplate(gguf, tokens, pre.AddBosByDefault), new ByteLevelDecoder(),
            new AddedVocabulary(specials, null), truncation: null, padding: null);
    }

    /// <summary>BOS before and EOS after each sequence, as tokenizer.ggml.add_bos_token / add_eos_token say.</summary>
    private static TemplateProcessing GgufTemplate(GgufMetadata gguf, string[] tokens, bool addBosByDefault)
    {
        var single = new List<TemplateProcessing.TemplatePiece>();
        var pair = new List<TemplateProcessing.TemplatePiece>();
        void Special(string key, string flag, bool fallback, List<TemplateProcessing.TemplatePiece> into)
        {
            if ((gguf.GetBool(flag) ?? fallback) && gguf.GetInt(key) is long id && id >= 0 && id < tokens.Length)
                into.Add(new TemplateProcessing.TemplatePiece(-1, 0, [(int)id], [tokens[id]]));
        }
        foreach (var (list, seq) in new[] { (single, 0), (pair, 0), (pair, 1) })
        {
            Special("tokenizer.ggml.bos_token_id", "tokenizer.ggml.add_bos_token", addBosByDefault, list);
            list.Add(new TemplateProcessing.TemplatePiece(seq, seq, [], []));
            Special("tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_eos_token", false, list);
        }
        return new TemplateProcessing(single.ToArray(), pair.ToArray());
    }

    private static int TypeOf(int[]? types, int id) => types != null && id < types.Length ? types[id] : GgufNormal;

    /// <summary>"llama" (SentencePiece BPE with scores and byte fallback): the Llama-2 pipeline, "▁" for spaces
    /// and a "▁" prefix, score-ordered merges, BOS/EOS as tokenizer.ggml.add_bos_token / add_eos_token say.</summary>
    private static Tokenizer GgufLlama(GgufMetadata gguf, string[] tokens, int[]? types)
    {
        var scores = gguf.GetArray<float>("tokenizer.ggml.scores") ?? new float[tokens.Length];
        var entries = new List<KeyValuePair<string, int>>(tokens.Length);
        var specials = new List<AddedToken>();
        for (int id = 0; id < tokens.Length; id++)
        {
            entries.Add(new(tokens[id], id));
            int type = TypeOf(types, id);
            if (type is GgufControl or GgufUnknown or GgufUserDefined)
                specials.Add(new AddedToken(id, tokens[id], Special: type != GgufUserDefined, Normalized: false));
        }
        // Scores only rank normal pieces; control/byte/unknown pieces never take part in merges.
        var mergeScores = new float[tokens.Length];
        for (int id = 0; id < tokens.Length; id++)
            mergeScores[id] = TypeOf(types, id) is GgufNormal or GgufUserDefined ? scores[id] : float.NegativeInfinity;
        var vocab = new Vocabulary(entries);
        int unk = (int)(gguf.GetInt("tokenizer.ggml.unknown_token_id") ?? 0);
        var model = new SentencePieceBpe(vocab, mergeScores, unk);

        bool addSpacePrefix = gguf.GetBool("tokenizer.ggml.add_space_prefix") ?? true;
        var pieces = new SentencePieceEntry[tokens.Length];
        for (int id = 0; id < tokens.Length; id++)
            pieces[id] = new SentencePieceEntry(tokens[id], scores[id], TypeOf(types, id) switch
            {
                GgufUnknown => SentencePieceType.Unknown,
                GgufControl => SentencePieceType.Control,
                GgufUserDefined => SentencePieceType.UserDefined,
                GgufUnused => SentencePieceType.Unused,
                GgufByte => SentencePieceType.Byte,
                _ => SentencePieceType.Normal,
            });
        int Id(string key) => gguf.GetInt(key) is long v && v >= 0 && v < tokens.Length ? (int)v : -1;
        return new Tokenizer(null, new SpmSpacePreTokenizer(addSpacePrefix), model, GgufTemplate(gguf, tokens, addBosByDefault: true),
            new SentencePieceDecoder(addSpacePrefix), new AddedVocabulary(specials, null), truncation: null, padding: null)
        {
            _sentencePieces = new SentencePieceVocabulary(pieces, unk, Id("tokenizer.ggml.bos_token_id"), Id("tokenizer.ggml.eos_token_id"),
                addSpacePrefix, gguf.GetBool("tokenizer.ggml.add_bos_token") ?? true, gguf.GetBool("tokenizer.ggml.add_eos_token") ?? false),
        };
    }

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
