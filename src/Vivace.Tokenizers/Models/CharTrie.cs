namespace Vivace.Tokenizers.Models;

/// <summary>
/// A trie over UTF-16 code units for common-prefix search (every vocabulary piece that starts a text).
/// Children of a node are found in one hash table keyed by (node, char); the root's children in an array.
/// </summary>
internal sealed class CharTrie
{
    private readonly int[] _rootChildren = new int[65536];
    private readonly Dictionary<long, int> _children = new();
    private readonly List<int> _values = [-1]; // node -> value (-1: no piece ends here)

    public CharTrie()
    {
        Array.Fill(_rootChildren, -1);
    }

    public int MaxLength { get; private set; }

    /// <summary>Adds <paramref name="key"/> with <paramref name="value"/> (a later value for the same key wins).</summary>
    public void Add(ReadOnlySpan<char> key, int value)
    {
        if (key.IsEmpty) return;
        int node = 0;
        for (int i = 0; i < key.Length; i++)
        {
            int next = Child(node, key[i]);
            if (next < 0)
            {
                next = _values.Count;
                _values.Add(-1);
                if (node == 0) _rootChildren[key[i]] = next;
                else _children[((long)node << 16) | key[i]] = next;
            }
            node = next;
        }
        _values[node] = value;
        MaxLength = Math.Max(MaxLength, key.Length);
    }

    private int Child(int node, char c) =>
        node == 0 ? _rootChildren[c] : _children.TryGetValue(((long)node << 16) | c, out int n) ? n : -1;

    /// <summary>Calls back with (length, value) for every key that is a prefix of <paramref name="text"/>, shortest first.</summary>
    public int PrefixSearch(ReadOnlySpan<char> text, Span<int> lengths, Span<int> values)
    {
        int node = 0, found = 0;
        for (int i = 0; i < text.Length; i++)
        {
            node = Child(node, text[i]);
            if (node < 0) break;
            int v = _values[node];
            if (v >= 0 && found < lengths.Length)
            {
                lengths[found] = i + 1;
                values[found] = v;
                found++;
            }
        }
        return found;
    }
}
