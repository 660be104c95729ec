using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace Vivace.Tokenizers.Normalizers;

/// <summary>
/// "Precompiled": SentencePiece's compiled normalization rules (precompiled_charsmap, base64). The blob is a
/// little-endian u32 trie size, a darts-clone double-array trie over UTF-8 bytes whose values are offsets
/// into the rest: NUL-terminated replacement strings. As the reference, each grapheme shorter than 6 UTF-8
/// bytes is looked up whole, else each of its characters; a lookup takes the first (shortest) rule that
/// prefixes the chunk and replaces the whole chunk. An empty charsmap is the identity.
/// </summary>
internal sealed class PrecompiledNormalizer : INormalizer
{
    private readonly uint[] _trie;
    private readonly byte[] _normalized;
    private readonly string?[] _bmp = new string?[0x10000];
    private readonly ConcurrentDictionary<int, string> _strings = new();

    public PrecompiledNormalizer(byte[] charsmap)
    {
        if (charsmap.Length == 0)
        {
            _trie = [];
            _normalized = [];
            return;
        }
        if (charsmap.Length < 4) throw new InvalidDataException("Precompiled charsmap is truncated.");
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(charsmap);
        if (trieSize % 4 != 0 || trieSize > charsmap.Length - 4)
            throw new InvalidDataException("Precompiled charsmap has an invalid trie size.");
        _trie = new uint[trieSize / 4];
        for (int i = 0; i < _trie.Length; i++) _trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(charsmap.AsSpan(4 + 4 * i));
        _normalized = charsmap[(4 + (int)trieSize)..];

        Span<byte> utf8 = stackalloc byte[4];
        for (int c = 0; c < 0x10000; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            int n = new System.Text.Rune(c).EncodeToUtf8(utf8);
            _bmp[c] = Transform(utf8[..n]);
        }
    }

    public bool IsIdentity => _trie.Length == 0;

    public static PrecompiledNormalizer FromJson(JsonElement e)
    {
        var v = e.TryGetProperty("precompiled_charsmap", out var p) ? p : default;
        byte[] data = v.ValueKind == JsonValueKind.String ? Convert.FromBase64String(v.GetString()!)
            : v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(x => (byte)x.GetInt32()).ToArray()
            : [];
        return new PrecompiledNormalizer(data);
    }

    /// <summary>The replacement for the first rule that prefixes <paramref name="key"/>, or null.</summary>
    private string? Transform(ReadOnlySpan<byte> key)
    {
        var a = _trie;
        if (a.Length == 0) return null;
        uint pos = 0;
        uint unit = a[0];
        pos ^= Offset(unit);
        foreach (byte c in key)
        {
            if (c == 0) break;
            pos ^= c;
            if (pos >= a.Length) return null;
            unit = a[pos];
            if ((unit & ((1u << 31) | 0xFF)) != c) return null;
            pos ^= Offset(unit);
            if (((unit >> 8) & 1) != 0)
            {
                if (pos >= a.Length) return null;
                int value = (int)(a[pos] & 0x7FFFFFFF);
                return _strings.GetOrAdd(value, ReadString);
            }
        }
        return null;
    }

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);

    private string ReadString(int start)
    {
        if ((uint)start > (uint)_normalized.Length) throw new InvalidDataException("Precompiled charsmap value out of range.");
        int end = Array.IndexOf(_normalized, (byte)0, start);
        if (end < 0) end = _normalized.Length;
        return System.Text.Encoding.UTF8.GetString(_normalized, start, end - start);
    }

    public void Normalize(NormalizedString text)
    {
        if (_trie.Length == 0) return;
        var src = text.Normalized;
        int n = src.Length;
        text.BeginRewrite(n + (n >> 2) + 8);
        Span<byte> utf8 = stackalloc byte[8];
        for (int i = 0; i < n;)
        {
            char c = src[i];
            int g;
            if (c < 0x80 && (i + 1 == n || src[i + 1] < 0x80 && !(c == '\r' && src[i + 1] == '\n'))) g = 1;
            else g = StringInfo.GetNextTextElementLength(src[i..]);
            if (g <= 0) g = 1;

            if (g == 1 && !char.IsSurrogate(c))
            {
                if (_bmp[c] is { } r) Replace(text, src, i, 1, r);
                else text.Emit(c, i);
                i++;
                continue;
            }
            var grapheme = src.Slice(i, g);
            if (System.Text.Encoding.UTF8.GetByteCount(grapheme) < 6)
            {
                int len = System.Text.Encoding.UTF8.GetBytes(grapheme, utf8);
                if (Transform(utf8[..len]) is { } r)
                {
                    Replace(text, src, i, g, r);
                    i += g;
                    continue;
                }
            }
            for (int end = i + g; i < end;)
            {
                int cp = Unicode.CharClass.CodePointAt(src, i, out int w);
                string? r;
                if (cp < 0x10000) r = _bmp[cp];
                else
                {
                    int len = new System.Text.Rune(cp).EncodeToUtf8(utf8);
                    r = Transform(utf8[..len]);
                }
                if (r != null) Replace(text, src, i, w, r);
                else for (int q = 0; q < w; q++) text.Emit(src[i + q], i + q);
                i += w;
            }
        }
        text.EndRewrite();
    }

    /// <summary>Emits <paramref name="replacement"/> for units [start, start + count): its j-th code point is aligned
    /// with the j-th replaced code point, extra ones with the last (the reference's alignment rule).</summary>
    private static void Replace(NormalizedString text, ReadOnlySpan<char> src, int start, int count, string replacement)
    {
        int oldPos = start, oldW = 1;
        int end = start + count;
        Unicode.CharClass.CodePointAt(src, oldPos, out oldW);
        for (int k = 0; k < replacement.Length;)
        {
            int w = char.IsHighSurrogate(replacement[k]) && k + 1 < replacement.Length ? 2 : 1;
            for (int q = 0; q < w; q++) text.Emit(replacement[k + q], oldPos, oldW);
            k += w;
            if (oldPos + oldW < end)
            {
                oldPos += oldW;
                Unicode.CharClass.CodePointAt(src, oldPos, out oldW);
            }
        }
    }
}
