using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>
/// GPT-2's reversible byte-to-character table: printable Latin-1 bytes map to themselves, the other 68
/// bytes to U+0100.. in order, so every byte string is a string of visible characters.
/// </summary>
internal static class ByteLevelTable
{
    /// <summary>Character for each byte.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>Byte for each character below U+0144, or -1.</summary>
    public static readonly short[] CharToByte = BuildReverse();

    private static char[] Build()
    {
        var table = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)(256 + n++);
        }
        return table;
    }

    private static short[] BuildReverse()
    {
        var rev = new short[0x144];
        Array.Fill(rev, (short)-1);
        for (int b = 0; b < 256; b++) rev[ByteToChar[b]] = (short)b;
        return rev;
    }

    public static int ByteOf(char c) => c < 0x144 ? CharToByte[c] : -1;
}

/// <summary>
/// "ByteLevel" pre-tokenizer: optionally a space before the piece (add_prefix_space, unless it already starts
/// with one), then GPT-2's regex splits it (use_regex). The byte-to-character mapping itself is applied by the
/// tokenizer just before the model, so offsets stay in the normalized text.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : IPreTokenizer
{
    public const string Gpt2Pattern = Gpt2PatternSplitter.Pattern;

    private static readonly Lazy<OnigRegex> s_regex = new(() => new OnigRegex(Gpt2Pattern));

    public bool AddPrefixSpace { get; } = addPrefixSpace;

    public bool UseRegex { get; } = useRegex;

    [ThreadStatic] private static List<(int, int)>? t_matches;
    [ThreadStatic] private static char[]? t_buffer;

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output)
    {
        if (piece.End <= piece.Start && !piece.PrefixSpace) return;
        bool prefix = piece.PrefixSpace || AddPrefixSpace && text[piece.Start] != ' ';
        if (!UseRegex)
        {
            output.Add(piece with { PrefixSpace = prefix });
            return;
        }
        var matches = t_matches ??= [];
        matches.Clear();
        var span = text[piece.Start..piece.End];
        if (!prefix)
        {
            s_regex.Value.Matches(span, matches);
            foreach (var (s, e) in matches)
                if (e > s) output.Add(new Piece(piece.Start + s, piece.Start + e));
            return;
        }
        // Match on " " + piece; the leading space becomes the PrefixSpace flag of the piece that holds it.
        int n = span.Length + 1;
        var buf = t_buffer is { } b && b.Length >= n ? b : t_buffer = new char[Math.Max(n, 64) * 2];
        buf[0] = ' ';
        span.CopyTo(buf.AsSpan(1));
        s_regex.Value.Matches(buf.AsSpan(0, n), matches);
        foreach (var (s, e) in matches)
        {
            if (e <= s) continue;
            if (s == 0) output.Add(new Piece(piece.Start, piece.Start + e - 1, PrefixSpace: true));
            else output.Add(new Piece(piece.Start + s - 1, piece.Start + e - 1));
        }
    }

    /// <summary>
    /// Regex splits in order (each refining the pieces of the one before, matches isolated), then the byte-level mapping
    /// with no prefix space and no regex of its own: how tiktoken vocabularies and llama.cpp's byte-level BPE split text.
    /// </summary>
    public static IPreTokenizer AfterRegexSplits(IEnumerable<string> regexes)
    {
        var members = new List<IPreTokenizer>();
        foreach (string regex in regexes)
            members.Add(new SplitPreTokenizer(new Unicode.OnigRegex(regex), DelimiterBehavior.Isolated, invert: false));
        members.Add(new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false));
        return new SequencePreTokenizer(members);
    }

    /// <summary>Whether <paramref name="p"/> is or contains a ByteLevel pre-tokenizer (the model then sees bytes).</summary>
    public static bool IsIn(IPreTokenizer? p) => p switch
    {
        ByteLevelPreTokenizer => true,
        SequencePreTokenizer s => s.PreTokenizers.Any(IsIn),
        RewritingSequencePreTokenizer r => r.PreTokenizers.Any(IsIn),
        _ => false,
    };
}
