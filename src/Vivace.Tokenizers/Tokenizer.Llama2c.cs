using Vivace.Tokenizers.AddedTokens;
using Vivace.Tokenizers.Decoders;
using Vivace.Tokenizers.Gguf;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.Processors;

namespace Vivace.Tokenizers;

/// <summary>Building a tokenizer from a llama2.c <c>tokenizer.bin</c> (e.g. <c>tok512.bin</c>).</summary>
public sealed partial class Tokenizer
{
    /// <summary>llama2.c's fixed special ids (its tokenizer.py exports SentencePiece's unk/bos/eos at 0/1/2).</summary>
    private const int Llama2cUnk = 0, Llama2cBos = 1, Llama2cEos = 2;

    /// <summary>
    /// A tokenizer from llama2.c's <c>tokenizer.bin</c>: int32 max_token_length, then per token a float32 score, an
    /// int32 byte length and the UTF-8 bytes. The pieces are SentencePiece's with "▁" written as " " and BOS/EOS
    /// written as "\n&lt;s&gt;\n" / "\n&lt;/s&gt;\n"; both are undone here so the vocabulary is the SentencePiece one and
    /// the same SentencePiece-BPE path as a GGUF "llama" vocabulary applies (score-ordered merges, byte fallback,
    /// a "▁" prefix, BOS added). Decoding follows run.c: "&lt;0xXX&gt;" pieces are raw bytes, BOS/EOS/unk are special
    /// (skipped), and the leading space of the first piece (the one after BOS) is stripped.
    /// <paramref name="vocabSize"/> (the checkpoint's) reads exactly that many tokens, as run.c does; null reads to the end.
    /// </summary>
    public static Tokenizer FromLlama2c(string path, int? vocabSize = null)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        long length = reader.BaseStream.Length;
        if (length < 4) throw new InvalidDataException($"{path}: not a llama2.c tokenizer (shorter than its header)");
        int maxTokenLength = reader.ReadInt32();
        var pieces = new List<string>();
        var scores = new List<float>();
        while (vocabSize is { } n ? pieces.Count < n : reader.BaseStream.Position < length)
        {
            if (length - reader.BaseStream.Position < 8)
                throw new InvalidDataException($"{path}: truncated at token {pieces.Count}");
            float score = reader.ReadSingle();
            int len = reader.ReadInt32();
            if (len < 0 || len > maxTokenLength || len > length - reader.BaseStream.Position)
                throw new InvalidDataException($"{path}: token {pieces.Count} has an invalid length {len}");
            byte[] bytes = reader.ReadBytes(len);
            pieces.Add(System.Text.Encoding.UTF8.GetString(bytes));
            scores.Add(score);
        }
        return FromLlama2cPieces(pieces, scores);
    }

    private static Tokenizer FromLlama2cPieces(List<string> pieces, List<float> scores)
    {
        int count = pieces.Count;
        var entries = new List<KeyValuePair<string, int>>(count);
        var specials = new List<AddedToken>();
        var mergeScores = new float[count];
        for (int id = 0; id < count; id++)
        {
            string piece = id switch
            {
                Llama2cUnk => "<unk>",
                Llama2cBos => "<s>",
                Llama2cEos => "</s>",
                _ => pieces[id].Replace(' ', '\u2581'),
            };
            entries.Add(new(piece, id));
            bool special = id is Llama2cUnk or Llama2cBos or Llama2cEos;
            if (special) specials.Add(new AddedToken(id, piece, Special: true, Normalized: false));
            // Only normal pieces take part in merges (as in SentencePiece): not specials, not byte pieces.
            mergeScores[id] = special || IsBytePiece(piece) ? float.NegativeInfinity : scores[id];
        }
        var model = new SentencePieceBpe(new Vocabulary(entries), mergeScores, Llama2cUnk);
        // run.c's encode(text, bos=1, eos=0): BOS before the text, no EOS.
        var bos = new TemplateProcessing.TemplatePiece(-1, 0, [Llama2cBos], ["<s>"]);
        var post = new TemplateProcessing(
            [bos, new TemplateProcessing.TemplatePiece(0, 0, [], [])],
            [bos, new TemplateProcessing.TemplatePiece(0, 0, [], []), bos, new TemplateProcessing.TemplatePiece(1, 1, [], [])]);
        return new Tokenizer(null, new SpmSpacePreTokenizer(addSpacePrefix: true), model, post,
            new SentencePieceDecoder(stripLeadingSpace: true), new AddedVocabulary(specials, null), truncation: null, padding: null);
    }

    private static bool IsBytePiece(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>';
}
