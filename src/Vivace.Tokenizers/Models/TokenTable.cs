using System.Numerics;

namespace Vivace.Tokenizers.Models;

/// <summary>
/// Token text → id, read-only after construction, built for the lookup every model does per candidate piece.
/// Open addressing with linear probing over 16-byte slots (hash, id, offset, length) at most half full, token
/// text packed in one char pool: a hit is one hash, usually one slot, and one compare against pooled chars,
/// with no string object to chase. The hash is seeded per table, so input cannot be aimed at its clusters.
/// </summary>
internal sealed class TokenTable
{
    private struct Slot
    {
        public uint Hash;
        public int Id; // -1: empty
        public int Offset;
        public int Length;
    }

    private readonly Slot[] _slots;
    private readonly char[] _pool;
    private readonly int _mask;
    private readonly ulong _seed = TextHash.NewSeed();

    /// <summary>Builds the table; when a token appears twice the later id wins.</summary>
    public TokenTable(IReadOnlyCollection<KeyValuePair<string, int>> entries)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, entries.Count * 2));
        _slots = new Slot[size];
        _mask = size - 1;
        for (int i = 0; i < size; i++) _slots[i].Id = -1;
        _pool = new char[entries.Sum(e => e.Key.Length)];
        int used = 0;
        foreach (var (token, id) in entries)
        {
            uint hash = Hash(token);
            int slot = (int)hash & _mask;
            while (_slots[slot].Id >= 0 && !(_slots[slot].Hash == hash && Text(_slots[slot]).SequenceEqual(token)))
                slot = (slot + 1) & _mask;
            if (_slots[slot].Id < 0)
            {
                token.CopyTo(_pool.AsSpan(used));
                _slots[slot] = new Slot { Hash = hash, Offset = used, Length = token.Length };
                used += token.Length;
                Count++;
            }
            _slots[slot].Id = id;
        }
    }

    public int Count { get; }

    private ReadOnlySpan<char> Text(in Slot s) => _pool.AsSpan(s.Offset, s.Length);

    public bool TryGetId(ReadOnlySpan<char> token, out int id)
    {
        uint hash = Hash(token);
        var slots = _slots;
        for (int slot = (int)hash & _mask; ; slot = (slot + 1) & _mask)
        {
            ref readonly Slot s = ref slots[slot];
            if (s.Id < 0) break;
            if (s.Hash == hash && s.Length == token.Length && TextHash.SameText(_pool.AsSpan(s.Offset, s.Length), token))
            {
                id = s.Id;
                return true;
            }
        }
        id = -1;
        return false;
    }

    private uint Hash(ReadOnlySpan<char> text) => TextHash.Of(text, _seed);
}
