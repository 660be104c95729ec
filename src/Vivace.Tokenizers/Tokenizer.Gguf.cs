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

    /// <summary>llama.cpp's GPT-2 regex (its splitter keeps unmatched text as pieces, like HF's Isolated).</summary>
    private const string GgufGpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";

    /// <summary>
    /// The pre-tokenization regexes llama.cpp applies, in order, for a tokenizer.ggml.pre value of a byte-level
    /// BPE vocabulary; null for one Vivace does not know (an error, rather than a silently different split).
    /// </summary>
    private static string[]? GgufPreRegexes(string pre) => pre switch
    {
        "default" or "gpt-2" or "gpt2" or "mpt" or "olmo" or "jais" => [GgufGpt2Regex],
        "starcoder" or "refact" or "command-r" or "smollm" or "codeshell" or "exaone" or "minerva" => [@"\p{N}", GgufGpt2Regex],
        "falcon" => [@"[\p{P}\$\+<=>\^~\|`]+", GgufGpt2Regex, "[0-9][0-9][0-9]"],
        "deepseek-llm" =>
        [
            "[\r\n]",
            // Unicode cased-letter ranges (as llama.cpp lists them), escaped so no editor or tool can NFC-fold
            // the singletons among them (U+1FBE, U+2126, U+212A ...) into other characters.
            "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
            "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
            "\\s+$",
            "[一-龥ࠀ-一가-퟿]+",
            "\\p{N}+",
        ],
        "deepseek-coder" => ["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"],
        _ => null,
    };

    /// <summary>
    /// "gpt2" (byte-level BPE): tokens and merges from the metadata, the pre-tokenizer regexes llama.cpp uses for
    /// tokenizer.ggml.pre (each splitting the previous one's pieces, matches isolated) before the byte-level
    /// mapping, control tokens as special added tokens, BOS/EOS as add_bos_token / add_eos_token say.
    /// </summary>
    private static Tokenizer GgufGpt2(GgufMetadata gguf, string[] tokens, int[]? types)
    {
        string pre = gguf.GetString("tokenizer.ggml.pre") ?? "default";
        string[] regexes = GgufPreRegexes(pre) ?? throw new UnsupportedComponentException("GGUF tokenizer.ggml.pre", pre);
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
        var splitters = new List<IPreTokenizer>();
        foreach (string regex in regexes)
            splitters.Add(new SplitPreTokenizer(new OnigRegex(regex), DelimiterBehavior.Isolated, invert: false));
        splitters.Add(new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false));

        return new Tokenizer(null, new SequencePreTokenizer(splitters), new Bpe(new Vocabulary(entries), merges),
            GgufTemplate(gguf, tokens, addBosByDefault: false), new ByteLevelDecoder(),
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
