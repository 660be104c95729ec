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
    /// string[], float[], int[]) for a GGUF writer. Supported: SentencePiece-BPE vocabularies ("llama": from a
    /// tokenizer.model, a llama2.c tokenizer.bin or a GGUF "llama" vocabulary): pieces, scores, piece types, unk/bos/eos
    /// ids, BOS added, the dummy-prefix flag — what <see cref="FromGguf(Gguf.GgufMetadata)"/> reads back into the same
    /// tokenizer. Other vocabularies throw <see cref="UnsupportedComponentException"/>.
    /// </summary>
    public IReadOnlyDictionary<string, object> ToGgufMetadata()
    {
        SentencePieceVocabulary spm = _sentencePieces
            ?? throw new UnsupportedComponentException("GGUF export of a tokenizer", $"{_model.GetType().Name} vocabulary (SentencePiece BPE vocabularies are supported)");
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
        return metadata;
    }
}
