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
    private readonly Func<int, string> _readString; // one delegate, not one per lookup

    public PrecompiledNormalizer(byte[] charsmap)
    {
        _readString = ReadString;
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
                return _strings.GetOrAdd(value, _readString);
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

    [ThreadStatic] private static int[]? t_cpStarts;

    public void Normalize(NormalizedString text)
    {
        if (_trie.Length == 0) return;
        var src = text.Normalized;
        int n = src.Length;
        // Unit index of each code point, so output can be aligned by code point index.
        var cpStarts = t_cpStarts is { } c0 && c0.Length > n + 1 ? c0 : t_cpStarts = new int[n + 2];
        int cpCount = 0;
        for (int i = 0; i < n;)
        {
            cpStarts[cpCount++] = i;
            Unicode.CharClass.CodePointAt(src, i, out int w);
            i += w;
        }
        cpStarts[cpCount] = n;

        var state = new EmitState { CpStarts = cpStarts };
        text.BeginRewrite(n + (n >> 2) + 8);
        Span<byte> utf8 = stackalloc byte[8];
        int cpIndex = 0;
        for (int i = 0; i < n;)
        {
            char c = src[i];
            int g;
            if (c < 0x80 && (i + 1 == n || src[i + 1] < 0x80 && !(c == '\r' && src[i + 1] == '\n'))) g = 1;
            else g = StringInfo.GetNextTextElementLength(src[i..]);
            if (g <= 0) g = 1;
            int gCps = 0;
            for (int q = i; q < i + g; q++) if (!char.IsLowSurrogate(src[q]) || q == i || !char.IsHighSurrogate(src[q - 1])) gCps++;

            if (g == 1 && !char.IsSurrogate(c))
            {
                Emit(text, ref state, _bmp[c], c, cpIndex, 1);
                i++;
                cpIndex++;
                continue;
            }
            var grapheme = src.Slice(i, g);
            if (System.Text.Encoding.UTF8.GetByteCount(grapheme) < 6)
            {
                int len = System.Text.Encoding.UTF8.GetBytes(grapheme, utf8);
                if (Transform(utf8[..len]) is { } r)
                {
                    Emit(text, ref state, r, '\0', cpIndex, gCps);
                    i += g;
                    cpIndex += gCps;
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
                if (r != null) Emit(text, ref state, r, '\0', cpIndex, 1);
                else
                {
                    for (int q = 0; q < w; q++) EmitUnit(text, ref state, src[i + q], cpIndex);
                    state.Emitted = true;
                }
                i += w;
                cpIndex++;
            }
        }
        text.EndRewrite();
    }

    private struct EmitState
    {
        public int[] CpStarts;
        public bool Emitted;
        /// <summary>Code points removed before anything was emitted: the reference does not account for them, so
        /// every later character is aligned that many code points too early (reproduced: offsets and
        /// Metaspace's prepend_scheme "first" depend on it).</summary>
        public int Lag;
    }

    private static void EmitUnit(NormalizedString text, ref EmitState s, char unit, int cpIndex)
    {
        int at = Math.Max(0, cpIndex - s.Lag);
        int from = s.CpStarts[at];
        text.Emit(unit, from, s.CpStarts[at + 1] - from);
    }

    /// <summary>Emits the code points [cpIndex, cpIndex + count) replaced by <paramref name="replacement"/>
    /// (or the single unit <paramref name="self"/> when null): the j-th new code point is aligned with the
    /// j-th replaced one, extra ones with the last (the reference's rule).</summary>
    private static void Emit(NormalizedString text, ref EmitState s, string? replacement, char self, int cpIndex, int count)
    {
        if (replacement is null)
        {
            EmitUnit(text, ref s, self, cpIndex);
            s.Emitted = true;
            return;
        }
        if (replacement.Length == 0)
        {
            if (!s.Emitted) s.Lag += count;
            return;
        }
        int j = 0;
        for (int k = 0; k < replacement.Length;)
        {
            int w = char.IsHighSurrogate(replacement[k]) && k + 1 < replacement.Length ? 2 : 1;
            for (int q = 0; q < w; q++) EmitUnit(text, ref s, replacement[k + q], cpIndex + Math.Min(j, count - 1));
            k += w;
            j++;
        }
        s.Emitted = true;
    }
}
