using System.Text;

namespace Vivace.Engine.Generation;

/// <summary>What <see cref="StopSequenceMatcher.Push"/> allows out after one piece of generated text.</summary>
/// <param name="Text">Text safe to emit now. When a stop sequence matched, the last text of the generation: what
/// came before the stop sequence (plus the stop sequence itself when the matcher includes it).</param>
/// <param name="StopSequence">The stop sequence that matched, or null while generation goes on.</param>
public readonly record struct StopSequenceResult(string Text, string? StopSequence)
{
    /// <summary>A stop sequence matched: generation ends here (finish reason "stop").</summary>
    public bool Stopped => StopSequence is not null;
}

/// <summary>
/// Stop sequences matched in the generated text across token boundaries, as TGI and OpenAI do: push each piece
/// of decoded text (e.g. the chunks of a <c>DecodeStream</c>) and emit only what the result allows.
/// <para>
/// A suffix of the text that could still be the start of a stop sequence is held back, so text that turns out
/// to be a stop sequence is never sent; the rest is released at once (with no stop sequences, everything
/// passes straight through). Call <see cref="Flush"/> when generation ends without a match (end-of-sequence
/// token, length limit) to release what is held.
/// </para>
/// <para>
/// Matching runs an Aho-Corasick automaton over the text, one character at a time: each pushed character costs
/// amortized O(1), nothing is rescanned, and only the held suffix (shorter than the longest stop sequence) is
/// kept. The automaton's state is exactly the longest suffix of the text that is a prefix of a stop sequence,
/// which is both what must be held back and what makes partial matches that overlap ("aab" in "aaab") work.
/// </para>
/// <para>
/// Which match wins: the stop sequence that is complete first while the text is read in order (the earliest
/// end); of several ending at the same character, the longest. The outcome therefore does not depend on how the
/// text was split into pieces. (vLLM instead tries the stop strings in list order over each new piece.)
/// </para>
/// <para>
/// Whether the stop sequence is part of the output: OpenAI's completions and chat APIs exclude it ("the returned
/// text will not contain the stop sequence"), as does vLLM by default (include_stop_str_in_output=false). TGI
/// (server/text_generation_server/utils/tokens.py, StopSequenceCriteria) stops when the accumulated output ends
/// with a stop sequence and keeps it: its generated_text and streamed tokens contain the stop sequence. The
/// default here is OpenAI's (excluded); <c>includeStopSequence: true</c> gives TGI's. Either way text after the
/// stop sequence (the rest of the token that completed it) is dropped, whereas TGI only notices a stop sequence
/// at the very end of a token's text.
/// </para>
/// Not thread-safe: one matcher per generated sequence.
/// </summary>
public sealed class StopSequenceMatcher
{
    // Automaton nodes: node 0 is the root (empty prefix). For node n: its children by next character, the
    // failure link (longest proper suffix of n's prefix that is also a prefix of some stop sequence), its depth
    // (the prefix's length) and the stop sequence completed on reaching it (-1 for none), following failure
    // links so that a shorter stop sequence ending here is seen too.
    private readonly List<Dictionary<char, int>> _children = [];
    private readonly List<int> _fail = [];
    private readonly List<int> _depth = [];
    private readonly List<int> _match = [];
    private readonly string[] _stops;
    private readonly bool _includeStopSequence;

    private int _state;
    private string _held = "";
    private string? _matched;

    /// <summary>Matcher for <paramref name="stopSequences"/>; null or empty strings are ignored (an empty stop
    /// sequence would end every generation before it starts).</summary>
    /// <param name="includeStopSequence">false (OpenAI, vLLM): the stop sequence is not emitted; true (TGI): it is
    /// emitted as the end of the text.</param>
    public StopSequenceMatcher(IEnumerable<string>? stopSequences, bool includeStopSequence = false)
    {
        _stops = (stopSequences ?? []).Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal).ToArray();
        _includeStopSequence = includeStopSequence;
        Build();
    }

    /// <summary>The stop sequences matched (non-empty, distinct).</summary>
    public IReadOnlyList<string> StopSequences => _stops;

    /// <summary>Whether a stop sequence has matched; later pushes return no text.</summary>
    public bool Stopped => _matched is not null;

    /// <summary>The stop sequence that matched, or null.</summary>
    public string? MatchedStopSequence => _matched;

    /// <summary>Length of the text held back because it may still begin a stop sequence.</summary>
    public int HeldLength => _held.Length;

    /// <summary>Feeds the next piece of generated text; see <see cref="StopSequenceResult"/>.</summary>
    public StopSequenceResult Push(string newText)
    {
        ArgumentNullException.ThrowIfNull(newText);
        if (_matched is not null) return new StopSequenceResult("", _matched);
        if (_stops.Length == 0) return new StopSequenceResult(newText, null);

        for (int i = 0; i < newText.Length; i++)
        {
            _state = Next(_state, newText[i]);
            int stop = _match[_state];
            if (stop < 0) continue;
            // The stop sequence is the last stop.Length characters of held text + newText[..(i + 1)].
            _matched = _stops[stop];
            int end = _held.Length + i + 1;
            int keep = _includeStopSequence ? end : end - _matched.Length;
            string text = Concat(_held, newText, keep);
            _held = "";
            return new StopSequenceResult(text, _matched);
        }

        // No match: everything but the state's prefix (the longest suffix that may begin a stop sequence) is safe.
        int total = _held.Length + newText.Length;
        int hold = _depth[_state];
        string safe = Concat(_held, newText, total - hold);
        _held = hold == 0 ? "" : Tail(_held, newText, hold);
        return new StopSequenceResult(safe, null);
    }

    /// <summary>At the end of a generation that did not stop on a stop sequence: the held-back text, which is
    /// real output after all. "" after a match or when nothing is held.</summary>
    public string Flush()
    {
        string held = _held;
        _held = "";
        _state = 0;
        return held;
    }

    /// <summary>The first <paramref name="count"/> characters of a + b.</summary>
    private static string Concat(string a, string b, int count)
    {
        if (count <= a.Length) return a[..count];
        return a.Length == 0 ? (count == b.Length ? b : b[..count]) : string.Concat(a, b.AsSpan(0, count - a.Length));
    }

    /// <summary>The last <paramref name="count"/> characters of a + b.</summary>
    private static string Tail(string a, string b, int count)
    {
        if (count <= b.Length) return b[^count..];
        return string.Concat(a.AsSpan(a.Length - (count - b.Length)), b);
    }

    private int Next(int state, char c)
    {
        while (true)
        {
            if (_children[state].TryGetValue(c, out int child)) return child;
            if (state == 0) return 0;
            state = _fail[state];
        }
    }

    private int AddNode(int depth)
    {
        _children.Add([]);
        _fail.Add(0);
        _depth.Add(depth);
        _match.Add(-1);
        return _children.Count - 1;
    }

    private void Build()
    {
        AddNode(0);
        for (int s = 0; s < _stops.Length; s++)
        {
            int node = 0;
            foreach (char c in _stops[s])
            {
                if (!_children[node].TryGetValue(c, out int child))
                {
                    child = AddNode(_depth[node] + 1);
                    _children[node][c] = child;
                }
                node = child;
            }
            _match[node] = s;
        }

        // Breadth first, so that a node's failure link (a shallower node) is final before the node is used.
        var queue = new Queue<int>();
        foreach (int child in _children[0].Values) queue.Enqueue(child);
        while (queue.Count > 0)
        {
            int node = queue.Dequeue();
            // A node that completes no stop sequence itself may still end one through its failure link (the
            // longest such, since failure links only get shorter): "bc" ends inside "abc".
            if (_match[node] < 0) _match[node] = _match[_fail[node]];
            foreach (var (c, child) in _children[node])
            {
                _fail[child] = Next(_fail[node], c) is int f && f != child ? f : 0;
                queue.Enqueue(child);
            }
        }
    }
}
