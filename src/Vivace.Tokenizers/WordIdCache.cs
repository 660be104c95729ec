using System.Numerics;

namespace Vivace.Tokenizers;

/// <summary>
/// Word → ids for the ids-only encode, keyed by the pre-tokenized word as it stands before the model (and its
/// prefix-space flag), so a hit skips the byte-level mapping and the model altogether. Real text repeats a
/// small set of words, so nearly every word after warm-up is one hash and one compare.
/// <para>
/// Open addressing over a fixed power-of-two table of immutable entries. Readers never lock: a slot is null or
/// holds a complete entry, published by one compare-and-swap. Bounded in entries and word length, and probing
/// stops after <see cref="MaxProbes"/> slots, so colliding input (adversarial or not) costs a miss, never a
/// long scan. Words are hashed with <see cref="TextHash"/>.
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
    private readonly ulong _seed = TextHash.NewSeed();
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

    /// <summary>The flag selects one of two seeds, so a word and its prefix-space twin hash apart.</summary>
    private uint Hash(ReadOnlySpan<char> word, bool prefixSpace) => TextHash.Of(word, prefixSpace ? ~_seed : _seed);
}
