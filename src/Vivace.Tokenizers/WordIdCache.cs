using System.Numerics;
using System.Runtime.InteropServices;

namespace Vivace.Tokenizers;

/// <summary>
/// Word → ids for the ids-only encode, keyed by the pre-tokenized word as it stands before the model (and its
/// prefix-space flag), so a hit skips the byte-level mapping and the model altogether. Real text repeats a
/// small set of words, so nearly every word after warm-up is one hash, one slot and one compare.
/// <para>
/// Layout, for few cache misses per lookup: a slot table of longs (32-bit hash | arena offset, 0 = empty,
/// linear probing, at most half full, grown by doubling) and one int arena holding each entry as
/// [header: length | flag &lt;&lt; 15 | id count &lt;&lt; 16][the word's chars, two per int][ids]. Entries are appended
/// in first-seen order, so the hot words of a text sit together.
/// </para>
/// <para>
/// Readers never lock: a slot is 0 or the offset of a complete entry, published after the entry (and any grown
/// arena) is written; a reader holding an older slot table just misses entries added since. Writers take a
/// lock (adds stop after warm-up). Bounded in entries, arena size and word length; probing stops after
/// <see cref="MaxProbes"/> slots, so colliding input costs a miss, never a long scan. Hash: <see cref="TextHash"/>.
/// </para>
/// </summary>
internal sealed class WordIdCache
{
    public const int MaxWordLength = 64;
    private const int MaxProbes = 8;
    private const int InitialSlots = 1024;

    private readonly int _maxEntries;
    private readonly int _maxArena;
    private readonly ulong _seed = TextHash.NewSeed();
    private readonly Lock _gate = new();

    private long[] _slots = new long[InitialSlots];
    private int[] _arena = new int[4096];
    private int _arenaUsed = 1; // offset 0 means "empty slot"
    private int _count;

    /// <param name="maxEntries">Words kept at most.</param>
    /// <param name="maxArenaInts">Arena size cap, in ints (4 bytes each).</param>
    public WordIdCache(int maxEntries = 65_536, int maxArenaInts = 1 << 21)
    {
        _maxEntries = maxEntries;
        _maxArena = maxArenaInts;
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>The slot table's size cap: eight slots per entry kept at most.</summary>
    private int MaxSlots => (int)BitOperations.RoundUpToPowerOf2((uint)_maxEntries * 8);

    public bool TryGet(ReadOnlySpan<char> word, bool prefixSpace, out ReadOnlySpan<int> ids)
    {
        ids = default;
        if (word.Length > MaxWordLength) return false;
        uint hash = Hash(word, prefixSpace);
        int key = Key(word.Length, prefixSpace);
        var slots = Volatile.Read(ref _slots);
        int mask = slots.Length - 1;
        int slot = (int)hash & mask;
        for (int probe = 0; probe < MaxProbes; probe++, slot = (slot + 1) & mask)
        {
            long v = Volatile.Read(ref slots[slot]);
            if (v == 0) return false;
            if ((uint)(v >> 32) != hash) continue;
            var arena = Volatile.Read(ref _arena);
            int offset = (int)(uint)v;
            int header = arena[offset];
            if ((header & 0xFFFF) != key || !TextHash.SameText(Chars(arena, offset, word.Length), word)) continue;
            ids = arena.AsSpan(offset + 1 + (word.Length + 1) / 2, header >>> 16);
            return true;
        }
        return false;
    }

    /// <summary>Remembers <paramref name="ids"/> for the word unless the cache is full, the word too long, or
    /// its probe window taken (then the word simply stays uncached).</summary>
    public void TryAdd(ReadOnlySpan<char> word, bool prefixSpace, ReadOnlySpan<int> ids)
    {
        if (word.Length > MaxWordLength || ids.Length > 0xFFFF || Volatile.Read(ref _count) >= _maxEntries) return;
        uint hash = Hash(word, prefixSpace);
        lock (_gate)
        {
            if (_count >= _maxEntries || TryGet(word, prefixSpace, out _)) return;
            int need = 1 + (word.Length + 1) / 2 + ids.Length;
            if (_arenaUsed + need > _maxArena) return;
            var arena = _arena;
            if (_arenaUsed + need > arena.Length)
            {
                arena = new int[Math.Min(_maxArena, Math.Max(arena.Length * 2, _arenaUsed + need))];
                _arena.AsSpan(0, _arenaUsed).CopyTo(arena);
            }
            int offset = _arenaUsed;
            arena[offset] = Key(word.Length, prefixSpace) | ids.Length << 16;
            word.CopyTo(MemoryMarshal.Cast<int, char>(arena.AsSpan(offset + 1, (word.Length + 1) / 2)));
            ids.CopyTo(arena.AsSpan(offset + 1 + (word.Length + 1) / 2));

            // Grow at half full, and also when this word's probe window is taken (clusters happen); at the
            // size cap a full window leaves the word uncached.
            var slots = _slots;
            if ((_count + 1) * 2 > slots.Length && slots.Length < MaxSlots) slots = Rehash(slots.Length * 2);
            while (!TryPlace(slots, hash, offset))
            {
                if (slots.Length >= MaxSlots) return; // the entry stays unreferenced in the arena
                slots = Rehash(slots.Length * 2);
            }
            _arenaUsed += need;
            Volatile.Write(ref _arena, arena); // before the slots that point into it
            Volatile.Write(ref _slots, slots);
            _count++;
        }
    }

    private static int Key(int length, bool prefixSpace) => length | (prefixSpace ? 1 << 15 : 0);

    private static ReadOnlySpan<char> Chars(int[] arena, int offset, int length) =>
        MemoryMarshal.Cast<int, char>(arena.AsSpan(offset + 1, (length + 1) / 2))[..length];

    /// <summary>Writes the slot (the last store that makes the entry visible); false when the window is full.</summary>
    private static bool TryPlace(long[] slots, uint hash, int offset)
    {
        int mask = slots.Length - 1;
        int slot = (int)hash & mask;
        for (int probe = 0; probe < MaxProbes; probe++, slot = (slot + 1) & mask)
        {
            if (slots[slot] != 0) continue;
            Volatile.Write(ref slots[slot], (long)hash << 32 | (uint)offset);
            return true;
        }
        return false;
    }

    /// <summary>A table of <paramref name="size"/> slots holding every entry of the current one (writers only).</summary>
    private long[] Rehash(int size)
    {
        var slots = new long[size];
        foreach (long v in _slots)
            if (v != 0) TryPlace(slots, (uint)(v >> 32), (int)(uint)v);
        return slots;
    }

    /// <summary>The flag selects one of two seeds, so a word and its prefix-space twin hash apart.</summary>
    private uint Hash(ReadOnlySpan<char> word, bool prefixSpace) => TextHash.Of(word, prefixSpace ? ~_seed : _seed);
}
