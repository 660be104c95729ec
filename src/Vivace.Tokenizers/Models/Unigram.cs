using System.Text.Json;

namespace Vivace.Tokenizers.Models;

/// <summary>
/// "Unigram" (SentencePiece unigram language model): the segmentation with the highest sum of piece scores
/// (Viterbi over code points). A code point that no piece starts with is the unknown token with score
/// min_score - 10; consecutive unknowns are fused into one token. With byte_fallback, a token not in the
/// vocabulary becomes its UTF-8 bytes as &lt;0xXX&gt; pieces when all of them exist.
/// Ties keep the shortest piece, as the reference's trie traversal does.
/// </summary>
internal sealed class Unigram : IModel
{
    private const double UnkPenalty = 10.0;

    private readonly string[] _pieces;
    private readonly double[] _scores;
    private readonly Vocabulary _vocab;
    private readonly CharTrie _trie = new();
    private readonly double _unkScore;
    private readonly int[]? _byteIds;

    public Unigram(IReadOnlyList<(string Piece, double Score)> vocab, int? unkId, bool byteFallback)
    {
        _pieces = new string[vocab.Count];
        _scores = new double[vocab.Count];
        var entries = new List<KeyValuePair<string, int>>(vocab.Count);
        double min = double.MaxValue;
        for (int i = 0; i < vocab.Count; i++)
        {
            _pieces[i] = vocab[i].Piece;
            _scores[i] = vocab[i].Score;
            entries.Add(new(vocab[i].Piece, i));
            if (vocab[i].Score < min) min = vocab[i].Score;
        }
        _vocab = new Vocabulary(entries);
        // The trie answers the id the vocabulary maps a piece to (the last occurrence of a duplicate).
        foreach (var (piece, _) in vocab)
            if (_vocab.TryGetId(piece, out int id)) _trie.Add(piece, id);
        _unkScore = (vocab.Count == 0 ? 0 : min) - UnkPenalty;
        if (unkId is int u && (u < 0 || u >= vocab.Count))
            throw new InvalidDataException($"Unigram unk_id {u} is outside the vocabulary (size {vocab.Count}).");
        UnkId = unkId;
        ByteFallback = byteFallback;
        if (byteFallback)
        {
            _byteIds = new int[256];
            for (int b = 0; b < 256; b++) _byteIds[b] = _vocab.TryGetId($"<0x{b:X2}>", out int id) ? id : -1;
        }
    }

    public int? UnkId { get; }
    public bool ByteFallback { get; }
    public int VocabSize => _pieces.Length;

    public double Score(int id) => _scores[id];

    public int? TokenToId(ReadOnlySpan<char> token) => _vocab.TryGetId(token, out int id) ? id : null;

    public string? IdToToken(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id] : null;

    public static Unigram FromJson(JsonElement e)
    {
        var vocab = new List<(string, double)>();
        foreach (var item in e.GetProperty("vocab").EnumerateArray())
            vocab.Add((item[0].GetString()!, JsonNumbers.ReadDouble(item[1])));
        return new Unigram(vocab, JsonRead.NullableInt(e, "unk_id"), JsonRead.Bool(e, "byte_fallback", false));
    }

    [ThreadStatic] private static Node[]? t_nodes;

    private struct Node
    {
        public double Score;
        public int StartsAt; // -1: not reached
        public int Id;
    }

    /// <summary>Per-thread cache of recent words (as the reference caches encodings): words repeat a lot.</summary>
    private sealed class WordCache
    {
        public const int Capacity = 10_000, MaxWordLength = 64;
        public readonly Unigram Owner;
        public readonly Dictionary<string, ModelToken[]> Map = new(StringComparer.Ordinal);
        public readonly Dictionary<string, ModelToken[]>.AlternateLookup<ReadOnlySpan<char>> Lookup;

        public WordCache(Unigram owner)
        {
            Owner = owner;
            Lookup = Map.GetAlternateLookup<ReadOnlySpan<char>>();
        }
    }

    [ThreadStatic] private static WordCache? t_cache;

    public void Tokenize(ReadOnlySpan<char> word, List<ModelToken> output)
    {
        int n = word.Length;
        if (n == 0) return;
        if (n > WordCache.MaxWordLength)
        {
            TokenizeUncached(word, output);
            return;
        }
        var cache = t_cache;
        if (cache is null || cache.Owner != this) t_cache = cache = new WordCache(this);
        if (cache.Lookup.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        int mark = output.Count;
        TokenizeUncached(word, output);
        if (cache.Map.Count >= WordCache.Capacity) cache.Map.Clear();
        cache.Map[word.ToString()] = output.GetRange(mark, output.Count - mark).ToArray();
    }

    private void TokenizeUncached(ReadOnlySpan<char> word, List<ModelToken> output)
    {
        int n = word.Length;
        var nodes = t_nodes is { } t && t.Length > n ? t : t_nodes = new Node[Math.Max(n + 1, 64)];
        nodes[0] = new Node { Score = 0, StartsAt = 0, Id = -1 };
        for (int i = 1; i <= n; i++) nodes[i].StartsAt = -1;

        int maxLen = Math.Max(1, _trie.MaxLength);
        Span<int> lengths = stackalloc int[Math.Min(maxLen, 256)];
        Span<int> ids = stackalloc int[lengths.Length];
        int unk = UnkId ?? -1;

        for (int start = 0; start < n;)
        {
            double here = nodes[start].Score;
            int width = char.IsHighSurrogate(word[start]) && start + 1 < n && char.IsLowSurrogate(word[start + 1]) ? 2 : 1;
            bool single = false;
            int found = _trie.PrefixSearch(word[start..], lengths, ids);
            for (int k = 0; k < found; k++)
            {
                int end = start + lengths[k];
                // A piece may not end inside a surrogate pair (no valid piece can).
                double candidate = here + _scores[ids[k]];
                ref var target = ref nodes[end];
                if (target.StartsAt < 0 || candidate > target.Score)
                {
                    target.Score = candidate;
                    target.StartsAt = start;
                    target.Id = ids[k];
                }
                if (lengths[k] == width) single = true;
            }
            if (!single)
            {
                ref var target = ref nodes[start + width];
                double candidate = here + _unkScore;
                if (target.StartsAt < 0 || candidate > target.Score)
                {
                    target.Score = candidate;
                    target.StartsAt = start;
                    target.Id = unk;
                }
            }
            start += width;
        }

        // Walk back; fuse runs of unknowns (the reference fuses whenever an unk id exists).
        int mark = output.Count;
        int pos = n;
        int fusedEnd = -1;
        while (pos > 0)
        {
            ref var node = ref nodes[pos];
            int s = node.StartsAt;
            if (unk >= 0 && node.Id == unk)
            {
                if (fusedEnd < 0) fusedEnd = pos;
            }
            else
            {
                if (fusedEnd >= 0) { output.Add(new ModelToken(-1, pos, fusedEnd)); fusedEnd = -1; }
                output.Add(new ModelToken(node.Id, s, pos));
            }
            pos = s;
        }
        if (fusedEnd >= 0) output.Add(new ModelToken(-1, 0, fusedEnd));
        output.Reverse(mark, output.Count - mark);

        // Resolve fused unknowns (id -1): the vocabulary, then byte fallback, then unk_id.
        for (int i = mark; i < output.Count; i++)
        {
            var tok = output[i];
            if (tok.Id >= 0) continue;
            var text = word[tok.Start..tok.End];
            if (_vocab.TryGetId(text, out int id)) { output[i] = tok with { Id = id }; continue; }
            if (_byteIds != null && TryBytes(text, out var bytes))
            {
                output.RemoveAt(i);
                foreach (int b in bytes) output.Insert(i++, new ModelToken(b, tok.Start, tok.End));
                i--;
                continue;
            }
            if (UnkId is null) throw new InvalidOperationException("Unigram: unknown token and no unk_id.");
            output[i] = tok with { Id = unk };
        }
    }

    private bool TryBytes(ReadOnlySpan<char> text, out List<int> ids)
    {
        ids = [];
        int count = System.Text.Encoding.UTF8.GetByteCount(text);
        Span<byte> buf = count <= 256 ? stackalloc byte[count] : new byte[count];
        System.Text.Encoding.UTF8.GetBytes(text, buf);
        foreach (byte b in buf)
        {
            int id = _byteIds![b];
            if (id < 0) return false;
            ids.Add(id);
        }
        return true;
    }
}
