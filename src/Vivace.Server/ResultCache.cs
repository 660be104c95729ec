namespace Vivace.Server;

/// <summary>
/// Finished response bodies by request key (model, route, inputs and parameters), least recently used first out,
/// bounded in entries and bytes. On by default, as in the HF Inference API; a request turns it off with
/// <c>options.use_cache: false</c> or the <c>x-use-cache: false</c> header.
/// </summary>
public sealed class ResultCache(int maxEntries, long maxBytes)
{
    private readonly Dictionary<string, LinkedListNode<(string Key, byte[] Body)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, byte[] Body)> _order = new(); // most recent first
    private readonly Lock _gate = new();
    private long _bytes;

    public bool Enabled => maxEntries > 0 && maxBytes > 0;

    public int Count
    {
        get { lock (_gate) return _entries.Count; }
    }

    public bool TryGet(string key, out byte[] body)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                body = node.Value.Body;
                return true;
            }
        }
        body = [];
        return false;
    }

    public void Add(string key, byte[] body)
    {
        long size = body.Length + key.Length * 2L;
        if (!Enabled || size > maxBytes) return;
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var old))
            {
                _order.Remove(old);
                _bytes -= old.Value.Body.Length + key.Length * 2L;
            }
            _entries[key] = _order.AddFirst((key, body));
            _bytes += size;
            while (_entries.Count > maxEntries || _bytes > maxBytes)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _entries.Remove(last.Value.Key);
                _bytes -= last.Value.Body.Length + last.Value.Key.Length * 2L;
            }
        }
    }
}
