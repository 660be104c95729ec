using Vivace.Tokenizers.PreTokenizers;

namespace Vivace.Tokenizers.Gguf;

/// <summary>
/// One of llama.cpp's pre-tokenizers for byte-level BPE vocabularies ("gpt2" tokenizer model). A GGUF file names it in
/// <c>tokenizer.ggml.pre</c>; the regexes themselves are compiled into llama.cpp (llama-vocab.cpp), in llama.cpp's own
/// spelling (it has no <c>(?i:…)</c>, so case-insensitive contractions are written as classes). Each regex splits the
/// pieces of the one before, matches and the text between them kept as pieces.
/// </summary>
/// <param name="Names">Every <c>tokenizer.ggml.pre</c> value llama.cpp reads as this pre-tokenizer; the first is the one
/// Vivace writes.</param>
/// <param name="IgnoreMerges">A word that is itself a token is taken whole, before any merge (llama.cpp sets it for these
/// names, as HF's <c>ignore_merges</c>).</param>
/// <param name="AddBosByDefault">BOS is added when the file has no <c>tokenizer.ggml.add_bos_token</c>.</param>
internal sealed record GgufBpePreTokenizer(string[] Names, string[] Regexes, bool IgnoreMerges = false, bool AddBosByDefault = false)
{
    /// <summary>GPT-2's regex (llama.cpp's splitter keeps unmatched text as pieces, like HF's Isolated).</summary>
    public const string Gpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";

    /// <summary>Llama 3's (and GPT-4's cl100k) regex: digits in runs of up to three, newlines kept apart.</summary>
    public const string Llama3Regex =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2's: Llama 3's with single digits.</summary>
    public const string Qwen2Regex =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>
    /// The pre-tokenizers Vivace reads and writes. Export tries them in this order and writes the first that splits the
    /// probe texts as the tokenizer does, so where two differ only in a flag the plainer one comes first.
    /// </summary>
    public static readonly GgufBpePreTokenizer[] Known =
    [
        new(["gpt-2", "phi-2", "mpt", "olmo", "jais", "exaone4", "trillion", "granite-docling"], [Gpt2Regex]),
        new(["llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"], [Llama3Regex],
            IgnoreMerges: true, AddBosByDefault: true),
        new(["dbrx", "smaug-bpe"], [Llama3Regex]),
        new(["qwen2", "deepseek-r1-qwen", "kormo", "megrez", "stablelm2", "hunyuan"], [Qwen2Regex]),
        new(["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"], [@"\p{N}", Gpt2Regex]),
        new(["falcon"], [@"[\p{P}\$\+<=>\^~\|`]+", Gpt2Regex, "[0-9][0-9][0-9]"]),
        new(["deepseek-llm"],
        [
            "[\r\n]",
            // Unicode cased-letter ranges (as llama.cpp lists them), escaped so no editor or tool can NFC-fold
            // the singletons among them (U+1FBE, U+2126, U+212A ...) into other characters.
            "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
            "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
            "\\s+$",
            "[一-龥ࠀ-一가-퟿]+",
            "\\p{N}+",
        ]),
        new(["deepseek-coder"], ["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"]),
        // What llama.cpp runs when the key is missing or says "default" (it warns that generation quality degrades).
        new(["default"], [@"[\p{P}\$\+<=>\^~\|]+", Gpt2Regex, @"\p{N}+", "[0-9][0-9][0-9]"]),
    ];

    /// <summary>The pre-tokenizer llama.cpp runs for a <c>tokenizer.ggml.pre</c> value; null for one Vivace does not know
    /// (an error, rather than a silently different split).</summary>
    public static GgufBpePreTokenizer? ForName(string name) => Array.Find(Known, p => p.Names.Contains(name));

    /// <summary>The regexes in order, then the byte-level mapping (no prefix space, no regex of its own).</summary>
    public IPreTokenizer Build() => ByteLevelPreTokenizer.AfterRegexSplits(Regexes);
}
