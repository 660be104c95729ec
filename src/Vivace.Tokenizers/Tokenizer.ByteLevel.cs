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

    private void EncodeByteLevelPiece(NormalizedString ns, Piece piece, List<ModelToken> tokens, List<TokenEntry> output)
    {
        var text = ns.Normalized;
        var bs = ByteScratch.Get();
        bs.Ensure((piece.End - piece.Start) * 3 + 1);
        char[] chars = bs.Chars;
        int[] from = bs.From, to = bs.To;
        var table = ByteLevelTable.ByteToChar;
        int n = 0;
        if (piece.PrefixSpace)
        {
            int w = piece.Start < text.Length ? (char.IsHighSurrogate(text[piece.Start]) && piece.Start + 1 < text.Length ? 2 : 1) : 0;
            chars[0] = table[' '];
            from[0] = piece.Start;
            to[0] = piece.Start + w;
            n = 1;
        }
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = piece.Start; i < piece.End;)
        {
            char c = text[i];
            if (c < 0x80)
            {
                chars[n] = table[c];
                from[n] = i;
                to[n++] = i + 1;
                i++;
                continue;
            }
            int width = char.IsHighSurrogate(c) && i + 1 < piece.End && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var rune = width == 2 ? new System.Text.Rune(c, text[i + 1]) : char.IsSurrogate(c) ? System.Text.Rune.ReplacementChar : new System.Text.Rune(c);
            int nb = rune.EncodeToUtf8(utf8);
            for (int k = 0; k < nb; k++)
            {
                chars[n] = table[utf8[k]];
                from[n] = i;
                to[n++] = i + width;
            }
            i += width;
        }

        tokens.Clear();
        _model.Tokenize(chars.AsSpan(0, n), tokens);
        foreach (var t in tokens)
        {
            var (os, oe) = t.End > t.Start ? ns.OriginalRange(from[t.Start], to[t.End - 1]) : ns.OriginalRange(from[t.Start], from[t.Start]);
            output.Add(new TokenEntry(t.Id, _model.IdToToken(t.Id) ?? "", os, oe, 0, false));
        }
    }
}
