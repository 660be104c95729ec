using Vivace.Tokenizers.AddedTokens;
using Vivace.Tokenizers.Decoders;
using Vivace.Tokenizers.Gguf;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.Normalizers;
using Vivace.Tokenizers.Processors;
using Vivace.Tokenizers.SentencePiece;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers;

/// <summary>Building a tokenizer from a SentencePiece <c>.model</c> file (Llama-2's and llama2.c's tokenizer.model).</summary>
public sealed partial class Tokenizer
{
    /// <summary>
    /// A SentencePiece BPE model with the identity normalizer (Llama-2, llama2.c): extra spaces removed when
    /// remove_extra_whitespaces is set, "▁" for spaces and a "▁" prefix when add_dummy_prefix is set, score-ordered merges, byte fallback, BOS before each sequence; decoding strips the
    /// prefix space. Unigram models and other normalizers (nmt_nfkc, a precompiled charsmap)
    /// throw <see cref="UnsupportedComponentException"/> rather than tokenize differently.
    /// </summary>
    public static Tokenizer FromSentencePieceModel(string path) => FromSentencePieceModel(SentencePieceModelFile.Read(path));

    public static Tokenizer FromSentencePieceModel(SentencePieceModelFile spm)
    {
        if (spm.ModelType != 2)
            throw new UnsupportedComponentException("SentencePiece model_type", spm.ModelType switch { 1 => "UNIGRAM", 3 => "WORD", 4 => "CHAR", _ => spm.ModelType.ToString() });
        if (spm.NormalizerName is not ("identity" or "") || spm.HasPrecompiledCharsmap || !spm.EscapeWhitespaces)
            throw new UnsupportedComponentException("SentencePiece normalizer",
                spm.NormalizerName + (spm.HasPrecompiledCharsmap ? " (precompiled_charsmap)" : "") + (spm.EscapeWhitespaces ? "" : " (no escape_whitespaces)"));
        return SentencePieceBpeTokenizer(spm.Pieces, spm.UnkId, spm.BosId, spm.AddDummyPrefix,
            spm.RemoveExtraWhitespaces ? ExtraWhitespaceRemover : null, spm.EosId);
    }

    /// <summary>
    /// SentencePiece's remove_extra_whitespaces under the identity rule: leading and trailing spaces dropped, runs of
    /// spaces folded to one (only U+0020: tabs and newlines are not whitespace to it). It runs before the dummy prefix.
    /// llama2.c's run.c does not do this, so its tokenizer.bin path leaves it out.
    /// </summary>
    private static INormalizer ExtraWhitespaceRemover => new SequenceNormalizer(
    [
        new ReplaceNormalizer(new OnigRegex(@"\A +| +\z"), ""),
        new ReplaceNormalizer(new OnigRegex(" {2,}"), " "),
    ]);

    /// <summary>
    /// The SentencePiece-BPE pipeline over typed pieces: unknown and control pieces are special added tokens,
    /// user-defined ones plain added tokens; only normal and user-defined pieces rank merges (as SentencePiece).
    /// </summary>
    private static Tokenizer SentencePieceBpeTokenizer(IReadOnlyList<SentencePieceEntry> pieces, int unkId, int bosId, bool addDummyPrefix,
        INormalizer? normalizer = null, int eosId = -1)
    {
        var entries = new List<KeyValuePair<string, int>>(pieces.Count);
        var specials = new List<AddedToken>();
        var mergeScores = new float[pieces.Count];
        for (int id = 0; id < pieces.Count; id++)
        {
            SentencePieceEntry p = pieces[id];
            entries.Add(new(p.Piece, id));
            if (p.Type is SentencePieceType.Control or SentencePieceType.Unknown or SentencePieceType.UserDefined)
                specials.Add(new AddedToken(id, p.Piece, Special: p.Type != SentencePieceType.UserDefined, Normalized: false));
            mergeScores[id] = p.Type is SentencePieceType.Normal or SentencePieceType.UserDefined ? p.Score : float.NegativeInfinity;
        }
        var model = new SentencePieceBpe(new Vocabulary(entries), mergeScores, unkId);
        IPostProcessor? post = null;
        if (bosId >= 0 && bosId < pieces.Count)
        {
            var bos = new TemplateProcessing.TemplatePiece(-1, 0, [bosId], [pieces[bosId].Piece]);
            post = new TemplateProcessing(
                [bos, new TemplateProcessing.TemplatePiece(0, 0, [], [])],
                [bos, new TemplateProcessing.TemplatePiece(0, 0, [], []), bos, new TemplateProcessing.TemplatePiece(1, 1, [], [])]);
        }
        return new Tokenizer(normalizer, new SpmSpacePreTokenizer(addDummyPrefix), model, post,
            new SentencePieceDecoder(stripLeadingSpace: addDummyPrefix), new AddedVocabulary(specials, null), truncation: null, padding: null)
        {
            _sentencePieces = new SentencePieceVocabulary(pieces, unkId, bosId, eosId, addDummyPrefix, RemovesExtraWhitespace: normalizer != null),
        };
    }
}
