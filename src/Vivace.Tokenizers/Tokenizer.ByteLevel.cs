using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.PreTokenizers;

namespace Vivace.Tokenizers;

/// <summary>Byte-level pieces: the model sees the piece's UTF-8 bytes as GPT-2 characters; each of those
/// remembers the normalized character it came from, so token offsets land on whole original characters.</summary>
public sealed partial class Tokenizer
{
    private sealed class ByteScratch
    {
        public char[] Chars = new char[256];
        public int[] From = new int[256];
        public int[] To = new int[256];

        [ThreadStatic] private static ByteScratch? t_instance;
        public static ByteScratch Get() => t_instance ??= new ByteScratch();

        public void Ensure(int n)
        {
            if (Chars.Length >= n) return;
            n = Math.Max(n, Chars.Length * 2);
            Chars = new char[n];
            From = new int[n];
            To = new int[n];
        }
    }

    /// <summary>Writes the piece's UTF-8 bytes as GPT-2 characters into <paramref name="chars"/> (a prefix space
    /// first when the piece has one); with <paramref name="from"/> and <paramref name="to"/>, also the normalized
    /// range each came from. Returns the count; the buffers hold at least 3 per UTF-16 unit plus one.</summary>
    private static int MapToByteChars(ReadOnlySpan<char> text, Piece piece, char[] chars, int[]? from, int[]? to)
    {
        var table = ByteLevelTable.ByteToChar;
        int n = 0;
        if (piece.PrefixSpace)
        {
            chars[0] = table[' '];
            if (from != null)
            {
                int w = piece.Start < text.Length ? (char.IsHighSurrogate(text[piece.Start]) && piece.Start + 1 < text.Length ? 2 : 1) : 0;
                from[0] = piece.Start;
                to![0] = piece.Start + w;
            }
            n = 1;
        }
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = piece.Start; i < piece.End;)
        {
            char c = text[i];
            if (c < 0x80)
            {
                if (from != null)
                {
                    from[n] = i;
                    to![n] = i + 1;
                }
                chars[n++] = table[c];
                i++;
                continue;
            }
            int width = char.IsHighSurrogate(c) && i + 1 < piece.End && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var rune = width == 2 ? new System.Text.Rune(c, text[i + 1]) : char.IsSurrogate(c) ? System.Text.Rune.ReplacementChar : new System.Text.Rune(c);
            int nb = rune.EncodeToUtf8(utf8);
            for (int k = 0; k < nb; k++)
            {
                if (from != null)
                {
                    from[n] = i;
                    to![n] = i + width;
                }
                chars[n++] = table[utf8[k]];
            }
            i += width;
        }
        return n;
    }

    private void EncodeByteLevelPiece<TSink>(NormalizedString ns, Piece piece, List<ModelToken> tokens, TSink sink) where TSink : struct, ITokenSink
    {
        var bs = ByteScratch.Get();
        bs.Ensure((piece.End - piece.Start) * 3 + 1);
        int[] from = bs.From, to = bs.To;
        int n = MapToByteChars(ns.Normalized, piece, bs.Chars, from, to);
        tokens.Clear();
        _model.Tokenize(bs.Chars.AsSpan(0, n), tokens);
        foreach (var t in tokens)
        {
            var (os, oe) = t.End > t.Start ? ns.OriginalRange(from[t.Start], to[t.End - 1]) : ns.OriginalRange(from[t.Start], from[t.Start]);
            sink.Add(new TokenEntry(t.Id, _model.IdToToken(t.Id) ?? "", os, oe, 0, false));
        }
    }

    /// <summary>Ids of one piece: from the word cache when the model's answer for this word is known, else from
    /// the model (through the byte-level mapping for a byte-level tokenizer), remembered for next time.</summary>
    private void EncodePieceIds<TSink>(ReadOnlySpan<char> text, Piece piece, List<ModelToken> tokens, TSink sink) where TSink : struct, ITokenSink
    {
        var word = text[piece.Start..piece.End];
        if (_wordPiece != null && _wordPiece.TryWholeWord(word, out int whole))
        {
            sink.Add(whole);
            return;
        }
        var cache = _wordIds;
        if (cache != null && cache.TryGet(word, piece.PrefixSpace, out ReadOnlySpan<int> known))
        {
            sink.AddIds(known);
            return;
        }
        tokens.Clear();
        if (_byteLevel)
        {
            var bs = ByteScratch.Get();
            bs.Ensure(word.Length * 3 + 1);
            int n = MapToByteChars(text, piece, bs.Chars, null, null);
            _model.Tokenize(bs.Chars.AsSpan(0, n), tokens);
        }
        else _model.Tokenize(word, tokens);

        if (cache is null || word.Length > WordIdCache.MaxWordLength)
        {
            foreach (var t in tokens) sink.Add(t.Id);
            return;
        }
        Span<int> ids = tokens.Count <= 64 ? stackalloc int[tokens.Count] : new int[tokens.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = tokens[i].Id;
        sink.AddIds(ids);
        cache.TryAdd(word, piece.PrefixSpace, ids);
    }
}
