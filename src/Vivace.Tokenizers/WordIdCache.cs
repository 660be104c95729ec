using System.Numerics;
using System.Runtime.InteropServices;

namespace Vivace.Tokenizers;

/// <summary>
/// Word → ids for the ids-only encode, keyed by the pre-tokenized word as it stands before the model (and its
/// prefix-space flag), so a hit skips the byte-level mapping and the model altogether. Real text repeats a
/// small set of words, so nearly every word after warm-up is one hash and one compare.
/// <para>
/// Open addressing over a fixed power-of-two table of immutable entries. Readers never lock: a slot is null or
/// holds a complete entry, published by one compare-and-swap. Bounded in entries and word length, and probing
/// stops after <see cref="MaxProbes"/> slots, so colliding input (adversarial or not) costs a miss, never a
/// long scan. Words are hashed with a fast multiplicative hash of 4 chars at a time, seeded per instance.
/// </para>
/// </summary>
internal sealed class WordIdCache
{
    public const int MaxWordLength = 64;
    private const int MaxProbes = 8;

    private sealed class Entry(string word, bool prefixSpace, int[] ids, uint hash)
    {
        public readonly string Word = word;
        public readonly bool PrefixSpace = prefixSpace;
        public readonly int[] Ids = ids;
        public readonly uint Hash = hash;
    }

    private readonly Entry?[] _slots;
    private readonly int _mask;
    private readonly int _maxEntries;
    private readonly ulong _seed = (ulong)Random.Shared.NextInt64() | 1;
    private int _count;

    /// <param name="maxEntries">Entries kept at most; the table has at least twice as many slots.</param>
    public WordIdCache(int maxEntries = 65_536)
    {
        _maxEntries = maxEntries;
        int slots = (int)BitOperations.RoundUpToPowerOf2((uint)maxEntries * 2);
        _slots = new Entry?[slots];
        _mask = slots - 1;
    }

    public int Count => Volatile.Read(ref _count);

    public bool TryGet(ReadOnlySpan<char> word, bool prefixSpace, out int[] ids)
    {
        if (word.Length <= MaxWordLength)
        {
            uint hash = Hash(word, prefixSpace);
            int slot = (int)hash & _mask;
            for (int probe = 0; probe < MaxProbes; probe++, slot = (slot + 1) & _mask)
            {
                var e = Volatile.Read(ref _slots[slot]);
                if (e is null) break;
                if (e.Hash == hash && e.PrefixSpace == prefixSpace && word.SequenceEqual(e.Word))
                {
                    ids = e.Ids;
                    return true;
                }
            }
        }
        ids = [];
        return false;
    }

    /// <summary>Remembers <paramref name="ids"/> for the word unless the cache is full, the word too long, or
    /// its probe window taken (then the word simply stays uncached).</summary>
    public void TryAdd(ReadOnlySpan<char> word, bool prefixSpace, ReadOnlySpan<int> ids)
    {
        if (word.Length > MaxWordLength || Volatile.Read(ref _count) >= _maxEntries) return;
        uint hash = Hash(word, prefixSpace);
        Entry? entry = null;
        int slot = (int)hash & _mask;
        for (int probe = 0; probe < MaxProbes; probe++, slot = (slot + 1) & _mask)
        {
            var e = Volatile.Read(ref _slots[slot]);
            if (e is null)
            {
                entry ??= new Entry(word.ToString(), prefixSpace, ids.ToArray(), hash);
                if (Interlocked.CompareExchange(ref _slots[slot], entry, null) is null)
                {
                    Interlocked.Increment(ref _count);
                    return;
                }
                e = Volatile.Read(ref _slots[slot]);
            }
            if (e!.Hash == hash && e.PrefixSpace == prefixSpace && word.SequenceEqual(e.Word)) return; // another thread added it
        }
    }

    /// <summary>Multiply-xorshift over 64-bit blocks (4 chars), then the 0–3 chars left; the length and flag
    /// are mixed in first so "a" and "a\0" or a flagged twin never share a chain by construction.</summary>
    private uint Hash(ReadOnlySpan<char> word, bool prefixSpace)
    {
        const ulong K = 0x9E3779B97F4A7C15;
        ulong h = _seed ^ ((ulong)word.Length << 1 | (prefixSpace ? 1UL : 0UL)) * K;
        var blocks = MemoryMarshal.Cast<char, ulong>(word);
        foreach (ulong b in blocks) h = BitOperations.RotateLeft((h ^ b) * K, 31);
        for (int i = blocks.Length * 4; i < word.Length; i++) h = BitOperations.RotateLeft((h ^ word[i]) * K, 31);
        h ^= h >> 32;
        h *= K;
        return (uint)(h >> 32);
    }
}
