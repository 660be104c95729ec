using System.Collections.Concurrent;
using System.Text.Json;

namespace Vivace.Tokenizers.Models;

/// <summary>
/// "BPE": a word starts as one symbol per character (byte-fallback <c>&lt;0xNN&gt;</c> pieces or unk for
/// characters outside the vocabulary), then the adjacent pair with the lowest merge rank is merged until none
/// is left (ties: leftmost first). Linked symbols plus a binary heap: O(n log n) per word. Results of words
/// up to <see cref="MaxCachedWordLength"/> units are cached.
/// </summary>
internal sealed class Bpe : IModel
{
    private const int MaxCachedWordLength = 256;
    private const int MaxCacheEntries = 100_000;

    private readonly Vocabulary _vocab;
    private readonly Dictionary<long, Merge> _merges;
    private readonly int[] _charIds; // BMP char -> id of the single-char token (no prefix/suffix), or -1
    private readonly int[] _byteIds; // byte -> id of "<0xNN>", or -1
    private readonly int _unkId;
    private readonly string _prefix;
    private readonly string _suffix;
    private readonly bool _fuseUnk;
    private readonly bool _byteFallback;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, ModelToken[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModelToken[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;

    private readonly record struct Merge(int Rank, int NewId);

    public Bpe(Vocabulary vocab, IEnumerable<(string A, string B)> merges, string? unkToken = null,
        string? continuingSubwordPrefix = null, string? endOfWordSuffix = null, bool fuseUnk = false,
        bool byteFallback = false, bool ignoreMerges = false)
    {
        _vocab = vocab;
        _prefix = continuingSubwordPrefix ?? "";
        _suffix = endOfWordSuffix ?? "";
        _fuseUnk = fuseUnk;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;
        _unkId = unkToken != null && vocab.TryGetId(unkToken, out int unk) ? unk : -1;

        _merges = new Dictionary<long, Merge>();
        int rank = 0;
        foreach (var (a, b) in merges)
        {
            // The merged token is a + b without b's continuing-subword prefix; merges naming tokens outside
            // the vocabulary are skipped (the reference refuses the file).
            string right = _prefix.Length > 0 && b.StartsWith(_prefix, StringComparison.Ordinal) ? b[_prefix.Length..] : b;
            if (vocab.TryGetId(a, out int ia) && vocab.TryGetId(b, out int ib) && vocab.TryGetId(a + right, out int merged))
                _merges[Key(ia, ib)] = new Merge(rank, merged); // a repeated pair keeps its last rank, as in the reference
            rank++;
        }

        _charIds = new int[65536];
        Array.Fill(_charIds, -1);
        _byteIds = new int[256];
        Array.Fill(_byteIds, -1);
        Span<char> name = stackalloc char[6];
        for (int i = 0; i < 256; i++)
        {
            $"<0x{i:X2}>".AsSpan().CopyTo(name);
            if (vocab.TryGetId(name, out int id)) _byteIds[i] = id;
        }
        foreach (var (token, id) in vocab.Entries)
            if (token.Length == 1 && !char.IsSurrogate(token[0]) && vocab.TryGetId(token, out int final) && final == id)
                _charIds[token[0]] = id;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int VocabSize => _vocab.Count;

    public int? TokenToId(ReadOnlySpan<char> token) => _vocab.TryGetId(token, out int id) ? id : null;

    public string? IdToToken(int id) => _vocab.GetToken(id);

    internal Vocabulary Vocabulary => _vocab;

    /// <summary>A word that is itself a token is taken whole (HF ignore_merges).</summary>
    internal bool IgnoresMerges => _ignoreMerges;

    /// <summary>Words are only merged: no continuing-subword prefix, end-of-word suffix or byte fallback.</summary>
    internal bool MergesOnly => _prefix.Length == 0 && _suffix.Length == 0 && !_byteFallback;

    /// <summary>The merges in rank order, as the pairs of tokens they join (merges that named tokens outside the
    /// vocabulary, and the earlier of repeated pairs, are gone: the same tokenization).</summary>
    internal IEnumerable<(string A, string B)> MergesByRank() =>
        _merges.OrderBy(m => m.Value.Rank).Select(m => (_vocab.GetToken((int)(m.Key >> 32))!, _vocab.GetToken((int)m.Key)!));

    private static long Key(int a, int b) => (long)a << 32 | (uint)b;

    public static Bpe FromJson(JsonElement e)
    {
        if (e.TryGetProperty("dropout", out var d) && d.ValueKind == JsonValueKind.Number && d.GetDouble() != 0)
            throw new UnsupportedComponentException("model", "BPE with dropout");
        var entries = new List<KeyValuePair<string, int>>();
        foreach (var p in e.GetProperty("vocab").EnumerateObject()) entries.Add(new(p.Name, p.Value.GetInt32()));
        return new Bpe(new Vocabulary(entries), ParseMerges(e.GetProperty("merges")),
            JsonRead.String(e, "unk_token"), JsonRead.String(e, "continuing_subword_prefix"),
            JsonRead.String(e, "end_of_word_suffix"), JsonRead.Bool(e, "fuse_unk", false),
            JsonRead.Bool(e, "byte_fallback", false), JsonRead.Bool(e, "ignore_merges", false));
    }

    /// <summary>Merges as "a b" strings (split at the first space) or ["a", "b"] pairs.</summary>
    internal static List<(string, string)> ParseMerges(JsonElement merges)
    {
        var list = new List<(string, string)>();
        if (merges.ValueKind != JsonValueKind.Array) return list;
        foreach (var m in merges.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                string s = m.GetString()!;
                int sp = s.IndexOf(' ');
                if (sp > 0) list.Add((s[..sp], s[(sp + 1)..]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
                list.Add((m[0].GetString()!, m[1].GetString()!));
        }
        return list;
    }

    public void Tokenize(ReadOnlySpan<char> word, List<ModelToken> output)
    {
        if (word.IsEmpty) return;
        if (_ignoreMerges && _vocab.TryGetId(word, out int whole))
        {
            output.Add(new ModelToken(whole, 0, word.Length));
            return;
        }
        bool cacheable = word.Length <= MaxCachedWordLength;
        if (cacheable && _cacheLookup.TryGetValue(word, out var hit))
        {
            output.AddRange(hit);
            return;
        }
        int before = output.Count;
        MergeWord(word, output);
        if (cacheable && _cache.Count < MaxCacheEntries)
            _cacheLookup.TryAdd(word, output.GetRange(before, output.Count - before).ToArray());
    }

    /// <summary>Per-thread symbol and heap storage.</summary>
    private sealed class Work
    {
        public int[] Id = new int[64], Start = new int[64], End = new int[64], Prev = new int[64], Next = new int[64];
        public int Count;
        public HeapEntry[] Heap = new HeapEntry[64];
        public int HeapCount;
        public char[] Name = new char[64];

        [ThreadStatic] private static Work? t_work;
        public static Work Get() => t_work ??= new Work();

        public void Add(int id, int start, int end)
        {
            if (Count == Id.Length)
            {
                int n = Count * 2;
                Array.Resize(ref Id, n); Array.Resize(ref Start, n); Array.Resize(ref End, n);
                Array.Resize(ref Prev, n); Array.Resize(ref Next, n);
            }
            Id[Count] = id; Start[Count] = start; End[Count] = end;
            Prev[Count] = Count - 1; Next[Count] = Count + 1;
            Count++;
        }

        public void Push(int rank, int pos, int newId)
        {
            if (HeapCount == Heap.Length) Array.Resize(ref Heap, HeapCount * 2);
            var e = new HeapEntry((long)rank << 32 | (uint)pos, newId);
            int i = HeapCount++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (Heap[parent].Key <= e.Key) break;
                Heap[i] = Heap[parent];
                i = parent;
            }
            Heap[i] = e;
        }

        public HeapEntry Pop()
        {
            var top = Heap[0];
            var last = Heap[--HeapCount];
            int i = 0, n = HeapCount;
            while (true)
            {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && Heap[c + 1].Key < Heap[c].Key) c++;
                if (last.Key <= Heap[c].Key) break;
                Heap[i] = Heap[c];
                i = c;
            }
            if (n > 0) Heap[i] = last;
            return top;
        }
    }

    private readonly record struct HeapEntry(long Key, int NewId);

    private void MergeWord(ReadOnlySpan<char> word, List<ModelToken> output)
    {
        var w = Work.Get();
        w.Count = 0;
        w.HeapCount = 0;
        int unkStart = -1, unkEnd = 0;
        bool plain = _prefix.Length == 0 && _suffix.Length == 0;
        Span<byte> utf8 = stackalloc byte[4];

        for (int i = 0; i < word.Length;)
        {
            char c = word[i];
            int width = char.IsHighSurrogate(c) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            bool last = i + width == word.Length;
            int id = -1;
            if (plain || (i == 0 || _prefix.Length == 0) && (!last || _suffix.Length == 0))
            {
                if (width == 1) id = _charIds[c];
                else if (_vocab.TryGetId(word.Slice(i, 2), out int found)) id = found;
            }
            else
            {
                string pre = i > 0 ? _prefix : "", suf = last ? _suffix : "";
                int n = pre.Length + width + suf.Length;
                if (w.Name.Length < n) w.Name = new char[n * 2];
                pre.CopyTo(w.Name);
                word.Slice(i, width).CopyTo(w.Name.AsSpan(pre.Length));
                suf.CopyTo(w.Name.AsSpan(pre.Length + width));
                if (_vocab.TryGetId(w.Name.AsSpan(0, n), out int found)) id = found;
            }

            if (id >= 0)
            {
                if (unkStart >= 0) { w.Add(_unkId, unkStart, unkEnd); unkStart = -1; }
                w.Add(id, i, i + width);
            }
            else
            {
                bool done = false;
                if (_byteFallback)
                {
                    int cp = width == 2 ? char.ConvertToUtf32(c, word[i + 1]) : c;
                    int nb = new System.Text.Rune(char.IsSurrogate(c) && width == 1 ? 0xFFFD : cp).EncodeToUtf8(utf8);
                    done = true;
                    for (int b = 0; b < nb; b++) if (_byteIds[utf8[b]] < 0) done = false;
                    if (done)
                    {
                        if (unkStart >= 0) { w.Add(_unkId, unkStart, unkEnd); unkStart = -1; }
                        for (int b = 0; b < nb; b++) w.Add(_byteIds[utf8[b]], i, i + width);
                    }
                }
                if (!done && _unkId >= 0)
                {
                    if (unkStart >= 0 && _fuseUnk) unkEnd = i + width;
                    else
                    {
                        if (unkStart >= 0) w.Add(_unkId, unkStart, unkEnd);
                        unkStart = i;
                        unkEnd = i + width;
                    }
                }
                // Without an unk token the character is dropped, as in the reference.
            }
            i += width;
        }
        if (unkStart >= 0) w.Add(_unkId, unkStart, unkEnd);
        if (w.Count == 0) return;
        w.Next[w.Count - 1] = -1;

        var merges = _merges;
        for (int i = 0; i + 1 < w.Count; i++)
            if (merges.TryGetValue(Key(w.Id[i], w.Id[i + 1]), out var m)) w.Push(m.Rank, i, m.NewId);

        while (w.HeapCount > 0)
        {
            var top = w.Pop();
            int pos = (int)(uint)top.Key;
            if (w.Start[pos] < 0) continue;
            int next = w.Next[pos];
            if (next < 0) continue;
            if (!merges.TryGetValue(Key(w.Id[pos], w.Id[next]), out var cur) || cur.NewId != top.NewId) continue;

            w.Id[pos] = top.NewId;
            w.End[pos] = w.End[next];
            w.Start[next] = -1;
            int after = w.Next[next];
            w.Next[pos] = after;
            if (after >= 0) w.Prev[after] = pos;

            int prev = w.Prev[pos];
            if (prev >= 0 && merges.TryGetValue(Key(w.Id[prev], w.Id[pos]), out var mp)) w.Push(mp.Rank, prev, mp.NewId);
            if (after >= 0 && merges.TryGetValue(Key(w.Id[pos], w.Id[after]), out var mn)) w.Push(mn.Rank, pos, mn.NewId);
        }

        for (int i = 0; i >= 0; i = w.Next[i])
            output.Add(new ModelToken(w.Id[i], w.Start[i], w.End[i]));
    }
}
