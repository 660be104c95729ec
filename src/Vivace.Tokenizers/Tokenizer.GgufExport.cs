using Vivace.Tokenizers.Gguf;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.Normalizers;
using Vivace.Tokenizers.SentencePiece;

namespace Vivace.Tokenizers;

/// <summary>What a SentencePiece-BPE vocabulary is made of, kept so the tokenizer can be written back out (GGUF).</summary>
internal sealed record SentencePieceVocabulary(IReadOnlyList<SentencePieceEntry> Pieces, int UnkId, int BosId, int EosId, bool AddDummyPrefix,
    bool AddBos = true, bool AddEos = false, bool RemovesExtraWhitespace = false);

/// <summary>Writing the vocabulary as llama.cpp's GGUF <c>tokenizer.ggml.*</c> keys.</summary>
public sealed partial class Tokenizer
{
    /// <summary>llama.cpp token types (llama_token_type) by SentencePiece piece type.</summary>
    private static int GgufTypeOf(SentencePieceType type) => type switch
    {
        SentencePieceType.Normal => GgufNormal,
        SentencePieceType.Unknown => GgufUnknown,
        SentencePieceType.Control => GgufControl,
        SentencePieceType.UserDefined => GgufUserDefined,
        SentencePieceType.Unused => GgufUnused,
        SentencePieceType.Byte => GgufByte,
        _ => GgufNormal,
    };

    /// <summary>
    /// The <c>tokenizer.ggml.*</c> metadata llama.cpp reads for this vocabulary, as plain values (string, uint, bool,
    /// string[], float[], int[]) for a GGUF writer; <see cref="FromGguf(Gguf.GgufMetadata)"/> reads them back into the
    /// same tokenizer. Supported:
    /// <list type="bullet">
    /// <item>SentencePiece-BPE vocabularies ("llama": from a tokenizer.model, a llama2.c tokenizer.bin or a GGUF "llama"
    /// vocabulary): pieces, scores, piece types, unk/bos/eos ids, BOS added, the dummy-prefix flag.</item>
    /// <item>Byte-level BPE vocabularies ("gpt2": GPT-2, Llama 3, Qwen2, Falcon, StarCoder ... tokenizer.json files):
    /// tokens (added tokens by their text, ids missing from the file as unused <c>[PAD<i>n</i>]</c> tokens), token types
    /// (special added tokens control, other added tokens user-defined), merges in rank order, and the llama.cpp
    /// pre-tokenizer that splits text as this tokenizer does (tried on probe texts; none fitting is an error, as a
    /// normalizer other than NFC is: llama.cpp would tokenize differently). BOS/EOS as the post-processor adds them.</item>
    /// </list>
    /// <paramref name="bosTokenId"/> and <paramref name="eosTokenId"/> (a model config's ids) are written where the
    /// vocabulary itself names none. Other vocabularies throw <see cref="UnsupportedComponentException"/>.
    /// </summary>
    public IReadOnlyDictionary<string, object> ToGgufMetadata(int? bosTokenId = null, int? eosTokenId = null)
    {
        if (_sentencePieces == null && _model is Bpe bpe && (_byteLevel || PreTokenizers.ByteLevelRewriter.IsIn(_preTokenizer)))
            return ByteLevelGgufMetadata(bpe, bosTokenId, eosTokenId);
        SentencePieceVocabulary spm = _sentencePieces
            ?? throw new UnsupportedComponentException("GGUF export of a tokenizer",
                $"{_model.GetType().Name} vocabulary (SentencePiece BPE and byte-level BPE vocabularies are supported)");
        if (spm.RemovesExtraWhitespace)
            throw new UnsupportedComponentException("GGUF export of a tokenizer",
                "SentencePiece remove_extra_whitespaces (llama.cpp's llama vocabulary keeps every space, so the file would tokenize differently)");
        int n = spm.Pieces.Count;
        var tokens = new string[n];
        var scores = new float[n];
        var types = new int[n];
        for (int id = 0; id < n; id++)
        {
            tokens[id] = spm.Pieces[id].Piece;
            scores[id] = spm.Pieces[id].Score;
            types[id] = GgufTypeOf(spm.Pieces[id].Type);
        }
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["tokenizer.ggml.model"] = "llama",
            ["tokenizer.ggml.tokens"] = tokens,
            ["tokenizer.ggml.scores"] = scores,
            ["tokenizer.ggml.token_type"] = types,
            ["tokenizer.ggml.add_bos_token"] = spm.AddBos && spm.BosId >= 0,
            ["tokenizer.ggml.add_eos_token"] = spm.AddEos,
            ["tokenizer.ggml.add_space_prefix"] = spm.AddDummyPrefix,
        };
        // llama.cpp wants these ids as u32.
        if (spm.UnkId >= 0 && spm.UnkId < n) metadata["tokenizer.ggml.unknown_token_id"] = (uint)spm.UnkId;
        if (spm.BosId >= 0 && spm.BosId < n) metadata["tokenizer.ggml.bos_token_id"] = (uint)spm.BosId;
        if (spm.EosId >= 0 && spm.EosId < n) metadata["tokenizer.ggml.eos_token_id"] = (uint)spm.EosId;
        else if (eosTokenId is int eos && eos >= 0 && eos < n) metadata["tokenizer.ggml.eos_token_id"] = (uint)eos;
        if (!metadata.ContainsKey("tokenizer.ggml.bos_token_id") && bosTokenId is int bos && bos >= 0 && bos < n)
            metadata["tokenizer.ggml.bos_token_id"] = (uint)bos;
        return metadata;
    }

    private IReadOnlyDictionary<string, object> ByteLevelGgufMetadata(Bpe bpe, int? bosTokenId, int? eosTokenId)
    {
        const string what = "GGUF export of a byte-level BPE tokenizer";
        if (!bpe.MergesOnly)
            throw new UnsupportedComponentException(what, "a BPE model with a subword prefix, word suffix or byte fallback (llama.cpp's gpt2 vocabulary has none)");
        // llama.cpp normalizes nothing; NFC is accepted as its own converter accepts it (Qwen2): text already in NFC,
        // which is nearly all text, tokenizes the same.
        if (_normalizer is not (null or UnicodeFormNormalizer { Compatibility: false, Composes: true }))
            throw new UnsupportedComponentException(what, $"the {_normalizer.GetType().Name} normalizer (llama.cpp normalizes nothing)");
        GgufBpePreTokenizer pre = MatchingGgufPreTokenizer(bpe)
            ?? throw new UnsupportedComponentException(what,
                "its pre-tokenizer: no llama.cpp pre-tokenizer splits the probe texts as it does (known: " +
                string.Join(", ", GgufBpePreTokenizer.Known.Select(k => k.Names[0])) + ")");
        if (_singleWithSpecial is not var (before, after) || before.Length > 1 || after.Length > 1)
            throw new UnsupportedComponentException(what, "its post-processor (llama.cpp adds at most one BOS before and one EOS after a sequence)");

        int n = bpe.Vocabulary.IdSpace; // one past the highest id, of the model's tokens and the added ones
        foreach (var t in _added.Tokens) n = Math.Max(n, t.Id + 1);
        var tokens = new string[n];
        var types = new int[n];
        for (int id = 0; id < n; id++)
        {
            if (_added.ById(id) is { } added)
            {
                tokens[id] = added.Content;
                types[id] = added.Special ? GgufControl : GgufUserDefined;
            }
            else if (bpe.IdToToken(id) is { } token)
            {
                tokens[id] = token;
                types[id] = GgufNormal;
            }
            else
            {
                // llama.cpp wants ids without holes; its converter fills them the same way.
                tokens[id] = $"[PAD{id}]";
                types[id] = GgufUnused;
            }
        }
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["tokenizer.ggml.model"] = "gpt2",
            ["tokenizer.ggml.pre"] = pre.Names[0],
            ["tokenizer.ggml.tokens"] = tokens,
            ["tokenizer.ggml.token_type"] = types,
            ["tokenizer.ggml.merges"] = bpe.MergesByRank().Select(m => m.A + " " + m.B).ToArray(),
            ["tokenizer.ggml.add_bos_token"] = before.Length == 1,
            ["tokenizer.ggml.add_eos_token"] = after.Length == 1,
        };
        int? bos = before.Length == 1 ? before[0] : bosTokenId, eos = after.Length == 1 ? after[0] : eosTokenId;
        if (bos is int b && b >= 0 && b < n) metadata["tokenizer.ggml.bos_token_id"] = (uint)b;
        if (eos is int e && e >= 0 && e < n) metadata["tokenizer.ggml.eos_token_id"] = (uint)e;
        return metadata;
    }

    /// <summary>The first of llama.cpp's pre-tokenizers that, over this tokenizer's own BPE model and added tokens, gives
    /// the same ids as this tokenizer on every probe text (and takes words whole exactly when it does).</summary>
    private GgufBpePreTokenizer? MatchingGgufPreTokenizer(Bpe bpe)
    {
        int[][] expected = Array.ConvertAll(GgufPreTokenizerProbes, text => EncodeToIds(text, addSpecialTokens: false));
        foreach (GgufBpePreTokenizer candidate in GgufBpePreTokenizer.Known)
        {
            if (candidate.IgnoreMerges != bpe.IgnoresMerges) continue;
            var probe = new Tokenizer(null, candidate.Build(), _model, null, null, _added, truncation: null, padding: null);
            bool same = true;
            for (int i = 0; i < expected.Length && same; i++)
                same = probe.EncodeToIds(GgufPreTokenizerProbes[i], addSpecialTokens: false).AsSpan().SequenceEqual(expected[i]);
            if (same) return candidate;
        }
        return null;
    }

    /// <summary>
    /// Texts on which llama.cpp's pre-tokenizers split differently: contractions in both cases, digit runs of every
    /// length, runs of spaces, tabs and newlines (leading, inner, trailing), punctuation clusters before newlines,
    /// letters of several scripts with and without a leading space or punctuation, CJK, symbols and emoji.
    /// </summary>
    private static readonly string[] GgufPreTokenizerProbes =
    [
        "Hello world! I'm here, you're there; we'LL SEE. DON'T they'd've?",
        "1 12 123 1234 12345 1234567 3.14159 2024-12-07 $100,000 #42 v1.2.3",
        "  leading spaces,   inner   runs,\ttabs\t\there, and trailing   ",
        "line one\nline two\n\nline four\r\nwindows\r\n\n  indented\n\t\ttabbed\n",
        "end...\n\n!!!\n?!\n (parens) [brackets] {braces} <angles> a+b=c^d~e|f`g",
        "x=foo(bar);\n    if (x) { return y->z; }  // comment\n\treturn 0;",
        "Ünïcödé façade naïve — «quotes» “curly” ‘single’ … Straße ÆØÅ",
        "Привет, мир! Γειά σου Κόσμε! שלום עולם مرحبا بالعالم नमस्ते दुनिया",
        "你好，世界！这是一个测试。こんにちは世界 안녕하세요 세계 ９８７６５",
        "emoji 🦙🚀 test 👍🏽 and 🇫🇷 flags, symbols ©®™ ±×÷ ½ ∑∫ →⇒",
        "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D ' tis",
        "word's\nnext 1\n2 a\n\n\nb c   \n   d\u00a0e\u3000f\u2028g",
        "CamelCaseWord snake_case_word kebab-case-word UPPER lower MiXeD",
        "    \n",
        "!",
        "",
    ];
}
