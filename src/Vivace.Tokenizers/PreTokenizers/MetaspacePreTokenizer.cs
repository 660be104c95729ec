using System.Text.Json;

namespace Vivace.Tokenizers.PreTokenizers;

public enum PrependScheme { Always, First, Never }

/// <summary>
/// "Metaspace": spaces become the replacement ("▁"); the replacement is prepended to every piece (Always),
/// to the piece at the very start of the input (First), or never; then, with split, each piece is split
/// before every replacement (MergedWithNext). The prepended "▁" is aligned with the piece's first character.
/// </summary>
internal sealed class MetaspacePreTokenizer(string replacement, PrependScheme prependScheme, bool split) : IRewritingPreTokenizer
{
    public string Replacement { get; } = replacement;
    public PrependScheme PrependScheme { get; } = prependScheme;
    public bool SplitPieces { get; } = split;

    private readonly Func<int, bool> _isReplacement = Is(char.ConvertToUtf32(replacement, 0)); // made once, not per call

    private static Func<int, bool> Is(int codePoint) => cp => cp == codePoint;

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output) =>
        throw new InvalidOperationException("Metaspace runs through Rewrite.");

    [ThreadStatic] private static List<Piece>? t_rewritten;

    public void Rewrite(NormalizedString text, List<Piece> pieces)
    {
        var src = text.Normalized;
        string rep = Replacement;
        int capacity = pieces.Count * rep.Length;
        foreach (var p in pieces) capacity += (p.End - p.Start) * rep.Length;
        var rewritten = t_rewritten ??= [];
        rewritten.Clear();
        text.BeginRewrite(capacity + 8);
        int outLen = 0;
        foreach (var p in pieces)
        {
            int begin = outLen;
            if (p.End > p.Start)
            {
                bool startsWithRep = src[p.Start] == ' ' || src[p.Start..p.End].StartsWith(rep, StringComparison.Ordinal);
                bool prepend = PrependScheme switch
                {
                    PrependScheme.Always => !startsWithRep,
                    PrependScheme.First => !startsWithRep && text.OriginalRange(p.Start, p.End).Start == 0,
                    _ => false,
                };
                if (prepend) foreach (char r in rep) { text.Emit(r, p.Start); outLen++; }
                for (int i = p.Start; i < p.End; i++)
                {
                    if (src[i] == ' ') foreach (char r in rep) { text.Emit(r, i); outLen++; }
                    else { text.Emit(src[i], i); outLen++; }
                }
            }
            rewritten.Add(new Piece(begin, outLen));
        }
        text.EndRewrite();
        pieces.Clear();
        if (!SplitPieces)
        {
            foreach (var p in rewritten) if (p.End > p.Start) pieces.Add(p);
            return;
        }
        var s = text.Normalized;
        foreach (var p in rewritten)
            PieceSplitter.Split(s, p, _isReplacement, DelimiterBehavior.MergedWithNext, pieces);
    }

    public static MetaspacePreTokenizer FromJson(JsonElement e)
    {
        var (rep, scheme, split) = ReadOptions(e);
        return new MetaspacePreTokenizer(rep, scheme, split);
    }

    /// <summary>replacement, prepend_scheme (the legacy add_prefix_space = false must come with never) and split, as the reference reads them for both the pre-tokenizer and the decoder.</summary>
    internal static (string Replacement, PrependScheme Scheme, bool Split) ReadOptions(JsonElement e)
    {
        string rep = JsonRead.String(e, "replacement") ?? "\u2581";
        if (rep.Length == 0 || char.IsSurrogate(rep[0]) && rep.Length < 2)
            throw new InvalidDataException("Metaspace replacement must be one character.");
        var scheme = JsonRead.String(e, "prepend_scheme") switch
        {
            null or "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            var s => throw new UnsupportedComponentException("Metaspace prepend_scheme", s),
        };
        // As the reference: the legacy add_prefix_space = false is only accepted beside prepend_scheme "never"
        // (prepend_scheme defaults to always before the check); true changes nothing.
        if (JsonRead.NullableBool(e, "add_prefix_space") == false && scheme != PrependScheme.Never)
            throw new InvalidDataException("Metaspace: add_prefix_space does not match declared prepend_scheme");
        return (rep, scheme, JsonRead.Bool(e, "split", true));
    }
}
