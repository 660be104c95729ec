using Vivace.Tokenizers.SentencePiece;

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
    /// the same SentencePiece-BPE pipeline as a SentencePiece .model applies (score-ordered merges, byte fallback,
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

    /// <summary>llama2.c's file has no piece types: they follow from its fixed ids and the "&lt;0xXX&gt;" byte pieces.</summary>
    private static Tokenizer FromLlama2cPieces(List<string> pieces, List<float> scores)
    {
        var typed = new List<SentencePieceEntry>(pieces.Count);
        for (int id = 0; id < pieces.Count; id++)
        {
            SentencePieceEntry e = id switch
            {
                Llama2cUnk => new("<unk>", scores[id], SentencePieceType.Unknown),
                Llama2cBos => new("<s>", scores[id], SentencePieceType.Control),
                Llama2cEos => new("</s>", scores[id], SentencePieceType.Control),
                _ => new(pieces[id].Replace(' ', '\u2581'), scores[id], IsBytePiece(pieces[id]) ? SentencePieceType.Byte : SentencePieceType.Normal),
            };
            typed.Add(e);
        }
        // run.c's encode(text, bos=1, eos=0): a " " prefix, BOS before the text, no EOS.
        return SentencePieceBpeTokenizer(typed, Llama2cUnk, Llama2cBos, addDummyPrefix: true, eosId: Llama2cEos);
    }

    private static bool IsBytePiece(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>';
}
