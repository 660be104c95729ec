namespace Vivace.Tokenizers;

/// <summary>
/// Text being normalized, with an alignment per normalized UTF-16 code unit: the range of the original
/// string it came from. Offsets of tokens therefore stay exact through any normalization.
/// Normalizers rewrite it with <see cref="BeginRewrite"/>, <see cref="Emit(char,int)"/>, <see cref="EndRewrite"/>
/// (double-buffered, so a pipeline of normalizers allocates nothing once the buffers have grown).
/// </summary>
internal sealed class NormalizedString
{
    private char[] _chars = new char[64];
    private int[] _starts = new int[64];
    private int[] _ends = new int[64];
    private int _length;

    private char[] _nChars = new char[64];
    private int[] _nStarts = new int[64];
    private int[] _nEnds = new int[64];
    private int _nLength;

    /// <summary>The original text (the whole input, of which this may hold a slice).</summary>
    public string Original { get; private set; } = "";

    public int Length => _length;

    public ReadOnlySpan<char> Normalized => _chars.AsSpan(0, _length);

    /// <summary>
    /// Whether alignments are kept. Off for an ids-only encode (nothing asks for offsets): the normalizers then
    /// write characters only, and <see cref="OriginalRange"/> must not be called. Set before <see cref="Reset"/>.
    /// </summary>
    public bool TrackAlignment { get; set; } = true;

    /// <summary>Resets to <paramref name="original"/>[<paramref name="start"/>..<paramref name="end"/>], unnormalized.
    /// Lone surrogates become U+FFFD (what the UTF-8 text the reference implementation sees holds).</summary>
    public void Reset(string original, int start, int end)
    {
        Original = original;
        int n = end - start;
        Ensure(ref _chars, ref _starts, ref _ends, n);
        var src = original.AsSpan(start, n);
        var dst = _chars.AsSpan(0, n);
        src.CopyTo(dst);
        // Surrogates are rare: find them with a vectorized search, then check each one's pairing.
        for (int i = src.IndexOfAny(Unicode.CharClass.Surrogates); i >= 0 && i < n; i++)
        {
            char c = src[i];
            if (!char.IsSurrogate(c)) continue;
            bool paired = char.IsHighSurrogate(c)
                ? i + 1 < n && char.IsLowSurrogate(src[i + 1])
                : i > 0 && char.IsHighSurrogate(src[i - 1]);
            if (!paired) dst[i] = '\uFFFD';
        }
        _length = n;
        if (!TrackAlignment) return;
        for (int i = 0; i < n; i++)
        {
            _starts[i] = start + i;
            _ends[i] = start + i + 1;
        }
    }

    /// <summary>Resets to normalized units [<paramref name="start"/>, <paramref name="end"/>) of <paramref name="source"/>,
    /// alignments included (a pre-tokenizer that rewrites text works on such a copy).</summary>
    public void ResetFrom(NormalizedString source, int start, int end)
    {
        Original = source.Original;
        int n = end - start;
        Ensure(ref _chars, ref _starts, ref _ends, n);
        TrackAlignment = source.TrackAlignment;
        Array.Copy(source._chars, start, _chars, 0, n);
        _length = n;
        if (!TrackAlignment) return;
        Array.Copy(source._starts, start, _starts, 0, n);
        Array.Copy(source._ends, start, _ends, 0, n);
    }

    /// <summary>Original range covered by normalized code units [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public (int Start, int End) OriginalRange(int start, int end)
    {
        if (!TrackAlignment) throw new InvalidOperationException("Alignments are not tracked in this encode.");
        if (end <= start)
        {
            int at = start < _length ? _starts[start] : _length > 0 ? _ends[_length - 1] : 0;
            return (at, at);
        }
        int s = _starts[start], e = _ends[end - 1];
        // Several normalized units may come from one original char and be reordered; widen to cover all.
        for (int i = start + 1; i < end; i++)
        {
            if (_starts[i] < s) s = _starts[i];
            if (_ends[i] > e) e = _ends[i];
        }
        return (s, e);
    }

    public void BeginRewrite(int capacityHint)
    {
        Ensure(ref _nChars, ref _nStarts, ref _nEnds, capacityHint);
        _nLength = 0;
    }

    /// <summary>Appends <paramref name="c"/> aligned like current normalized unit <paramref name="from"/>.</summary>
    public void Emit(char c, int from)
    {
        if (TrackAlignment) EmitAligned(c, _starts[from], _ends[from]);
        else EmitChar(c);
    }

    /// <summary>Appends <paramref name="c"/> aligned to the original range of units [from, from + count).</summary>
    public void Emit(char c, int from, int count)
    {
        if (TrackAlignment) EmitAligned(c, _starts[from], _ends[from + count - 1]);
        else EmitChar(c);
    }

    private void EmitChar(char c)
    {
        if (_nLength == _nChars.Length) Grow(ref _nChars, ref _nStarts, ref _nEnds, _nLength + 1);
        _nChars[_nLength++] = c;
    }

    private void EmitAligned(char c, int alignStart, int alignEnd)
    {
        if (_nLength == _nChars.Length) Grow(ref _nChars, ref _nStarts, ref _nEnds, _nLength + 1);
        _nChars[_nLength] = c;
        _nStarts[_nLength] = alignStart;
        _nEnds[_nLength] = alignEnd;
        _nLength++;
    }

    /// <summary>
    /// Appends current units [<paramref name="from"/>, <paramref name="from"/> + <paramref name="count"/>) unchanged
    /// (ASCII letters lowered when <paramref name="lowerAscii"/>), each keeping its alignment: the bulk form of
    /// <see cref="Emit(char,int)"/> for the runs most text is made of.
    /// </summary>
    public void EmitRun(int from, int count, bool lowerAscii)
    {
        if (count <= 0) return;
        if (_nLength + count > _nChars.Length) Grow(ref _nChars, ref _nStarts, ref _nEnds, _nLength + count);
        Span<char> destination = _nChars.AsSpan(_nLength, count);
        _chars.AsSpan(from, count).CopyTo(destination);
        if (TrackAlignment)
        {
            _starts.AsSpan(from, count).CopyTo(_nStarts.AsSpan(_nLength, count));
            _ends.AsSpan(from, count).CopyTo(_nEnds.AsSpan(_nLength, count));
        }
        if (lowerAscii) System.Text.Ascii.ToLowerInPlace(destination, out _);
        _nLength += count;
    }

    public void EndRewrite()
    {
        (_chars, _nChars) = (_nChars, _chars);
        (_starts, _nStarts) = (_nStarts, _starts);
        (_ends, _nEnds) = (_nEnds, _ends);
        _length = _nLength;
    }

    /// <summary>Swaps units i and j with their alignments (for canonical reordering).</summary>
    public void SwapUnits(int i, int j)
    {
        (_chars[i], _chars[j]) = (_chars[j], _chars[i]);
        if (!TrackAlignment) return;
        (_starts[i], _starts[j]) = (_starts[j], _starts[i]);
        (_ends[i], _ends[j]) = (_ends[j], _ends[i]);
    }

    private static void Ensure(ref char[] c, ref int[] s, ref int[] e, int n)
    {
        if (c.Length < n) Grow(ref c, ref s, ref e, n);
    }

    private static void Grow(ref char[] c, ref int[] s, ref int[] e, int n)
    {
        int size = Math.Max(n, c.Length * 2);
        Array.Resize(ref c, size);
        Array.Resize(ref s, size);
        Array.Resize(ref e, size);
    }
}
