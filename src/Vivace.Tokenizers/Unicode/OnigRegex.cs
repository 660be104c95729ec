using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Vivace.Tokenizers.Unicode;

/// <summary>
/// A regex written for Oniguruma (what the reference tokenizers use), run with .NET's engine.
/// The pattern is translated where the dialects differ (possessive quantifiers, Ruby's stacked
/// <c>{n}+</c>, <c>\h</c>, <c>{,n}</c>, POSIX brackets, nested classes, <c>\p{Word}</c>; <c>^</c>/<c>$</c> are
/// line anchors). .NET matches UTF-16 units, Oniguruma code points: text with surrogate pairs is matched
/// on a copy where each supplementary code point is one BMP stand-in of the same general category, and the
/// match positions are mapped back.
/// </summary>
internal sealed class OnigRegex
{
    private readonly Regex _regex;

    /// <summary>
    /// Nothing in the pattern can match half of a surrogate pair (no category, no negated class, no "."): it is
    /// then matched on the UTF-16 text itself, each supplementary literal or range written as the surrogate pairs
    /// it covers, which is exact. deepseek's letter class holds 𐐀-𐑏 and more; its CJK class [ࠀ-一] would take
    /// a category stand-in of an emoji for a member. Other patterns run on category stand-ins (see Matches).
    /// </summary>
    private readonly bool _utf16;

    /// <summary>A hand-written matcher giving the same matches, for the patterns real models use most.</summary>
    private readonly SpanMatcher? _handWritten;

    internal delegate void SpanMatcher(ReadOnlySpan<char> text, List<(int Start, int End)> output);

    /// <param name="handWritten">Use a hand-written matcher where one exists for <paramref name="pattern"/>
    /// (off only for the tests that compare the two).</param>
    public OnigRegex(string pattern, bool handWritten = true)
    {
        Pattern = pattern;
        _utf16 = Utf16Safe(pattern, out string? unsafeConstruct);
        if (!_utf16 && HasSupplementaryLiteral(pattern))
            throw new UnsupportedComponentException("regex with supplementary-plane characters and " + unsafeConstruct, pattern);
        _regex = new Regex(Translate(pattern, _utf16), RegexOptions.CultureInvariant | RegexOptions.Multiline | RegexOptions.Compiled);
        if (handWritten && pattern == Gpt2PatternSplitter.Pattern) _handWritten = Gpt2PatternSplitter.Matches;
    }

    public string Pattern { get; }

    /// <summary>A pattern matching <paramref name="literal"/> verbatim.</summary>
    public static OnigRegex Literal(string literal) => new(EscapeLiteral(literal)) { _literal = literal.Length > 0 ? literal : null };

    /// <summary>Set for literal patterns: matched with IndexOf instead of the regex engine.</summary>
    private string? _literal;

    private static string EscapeLiteral(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s)
        {
            if ("\\^$.|?*+()[]{}".Contains(c)) sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Appends the [start, end) of every match in <paramref name="text"/> (positions in its UTF-16 units).</summary>
    public void Matches(ReadOnlySpan<char> text, List<(int Start, int End)> output)
    {
        if (_handWritten != null)
        {
            _handWritten(text, output);
            return;
        }
        if (_literal is { } lit)
        {
            for (int pos = 0; pos <= text.Length - lit.Length;)
            {
                int k = text[pos..].IndexOf(lit, StringComparison.Ordinal);
                if (k < 0) break;
                output.Add((pos + k, pos + k + lit.Length));
                pos += k + lit.Length;
            }
            return;
        }
        if (_utf16 || text.IndexOfAny(CharClass.Surrogates) < 0)
        {
            foreach (var m in _regex.EnumerateMatches(text)) output.Add((m.Index, m.Index + m.Length));
            return;
        }
        // One unit per code point; map[k] = position in text of unit k (map[n] = text.Length).
        char[] buf = ArrayPool<char>.Shared.Rent(text.Length);
        int[] map = ArrayPool<int>.Shared.Rent(text.Length + 1);
        int n = 0;
        for (int i = 0; i < text.Length;)
        {
            map[n] = i;
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                buf[n++] = StandIn(char.ConvertToUtf32(c, text[i + 1]));
                i += 2;
            }
            else { buf[n++] = c; i++; }
        }
        map[n] = text.Length;
        foreach (var m in _regex.EnumerateMatches(buf.AsSpan(0, n)))
            output.Add((map[m.Index], map[m.Index + m.Length]));
        ArrayPool<char>.Shared.Return(buf);
        ArrayPool<int>.Shared.Return(map);
    }

    /// <summary>A BMP character of the same general category as supplementary code point <paramref name="cp"/>.</summary>
    private static char StandIn(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp) switch
    {
        UnicodeCategory.UppercaseLetter => '\uA732',
        UnicodeCategory.LowercaseLetter => '\uA733',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\uA000',
        UnicodeCategory.NonSpacingMark => '\u1DC0',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\uA620',
        UnicodeCategory.LetterNumber => '\u16EE',
        UnicodeCategory.OtherNumber => '\u2070',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u2039',
        UnicodeCategory.FinalQuotePunctuation => '\u203A',
        UnicodeCategory.OtherPunctuation => '\u2E2A',
        UnicodeCategory.MathSymbol => '\u2A00',
        UnicodeCategory.CurrencySymbol => '\u20A0',
        UnicodeCategory.ModifierSymbol => '\u02C2',
        UnicodeCategory.OtherSymbol => '\u2B00',
        UnicodeCategory.Format => '\u2060',
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\u0378', // unassigned
    };

    /// <summary>Oniguruma's Unicode \w: letters, marks, decimal digits, connector punctuation, plus the
    /// alphabetic numbers and symbols (Nl, circled letters) and Latin-1 superscripts/fractions it counts as word.</summary>
    private const string WordBody = @"\p{L}\p{M}\p{Nd}\p{Pc}\p{Nl}\u00B2\u00B3\u00B9\u00BC-\u00BE\u24B6-\u24E9\u200C\u200D";
    private const string Word = "[" + WordBody + "]";
    private const string NotWord = "[^" + WordBody + "]";

    private static bool HasSupplementaryLiteral(string p)
    {
        for (int i = 0; i + 1 < p.Length; i++)
            if (char.IsHighSurrogate(p[i]) && char.IsLowSurrogate(p[i + 1])) return true;
        return false;
    }

    /// <summary>Whether no construct of <paramref name="p"/> can match a lone surrogate unit: categories, negated
    /// classes, "." and the like, or a literal class range across U+D800–U+DFFF.</summary>
    private static bool Utf16Safe(string p, out string? unsafeConstruct)
    {
        foreach (string construct in new[] { ".", "[^", @"\p", @"\P", @"\w", @"\W", @"\S", @"\D", @"\d", @"\X", @"\H", @"\h", @"\u", @"\x", @"\b", @"\B", @"\R", @"\N", @"\O", "[[:" })
        {
            if (!p.Contains(construct, StringComparison.Ordinal)) continue;
            unsafeConstruct = construct;
            return false;
        }
        for (int i = 1; i + 1 < p.Length; i++)
        {
            if (p[i] != '-' || p[i - 1] >= 0xD800 || p[i + 1] < 0xE000 || char.IsSurrogate(p[i + 1])) continue;
            unsafeConstruct = $"{p[i - 1]}-{p[i + 1]}";
            return false;
        }
        unsafeConstruct = null;
        return true;
    }

    /// <summary>Oniguruma (Ruby syntax) pattern to an equivalent .NET pattern; with <paramref name="utf16"/>,
    /// supplementary characters as surrogate pairs (see <see cref="_utf16"/>), else as category stand-ins.</summary>
    internal static string Translate(string p, bool utf16 = false)
    {
        var sb = new StringBuilder(p.Length + 16);
        var groups = new Stack<int>();
        int atom = -1; // where the last atom starts in sb
        for (int i = 0; i < p.Length;)
        {
            char c = p[i];
            if (c == '\\' && i + 1 < p.Length)
            {
                atom = sb.Length;
                i = TranslateEscape(p, i, sb, inClass: false);
            }
            else if (c == '[')
            {
                atom = sb.Length;
                i = TranslateClass(p, i, sb, utf16);
            }
            else if (c == '(')
            {
                groups.Push(sb.Length);
                sb.Append(c);
                i++;
                atom = -1;
            }
            else if (c == ')')
            {
                sb.Append(c);
                i++;
                atom = groups.Count > 0 ? groups.Pop() : -1;
            }
            else if ((c is '*' or '+' or '?' || c == '{' && IsQuantifier(p, i, out _)) && atom >= 0)
            {
                int qStart = sb.Length;
                bool counted = c == '{';
                if (counted)
                {
                    IsQuantifier(p, i, out int close);
                    string q = p[i..(close + 1)];
                    if (q.StartsWith("{,", StringComparison.Ordinal)) q = "{0" + q[1..];
                    sb.Append(q);
                    i = close + 1;
                }
                else { sb.Append(c); i++; }
                if (i < p.Length && p[i] == '?') { sb.Append('?'); i++; } // lazy
                else if (i < p.Length && p[i] == '+')
                {
                    i++;
                    if (counted)
                    {   // Ruby: X{n}+ is (?:X{n})+ , not possessive
                        sb.Insert(atom, "(?:").Append(")+");
                    }
                    else
                    {   // possessive X*+ -> atomic (?>X*)
                        sb.Insert(atom, "(?>").Append(')');
                    }
                }
                _ = qStart;
                atom = -1;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < p.Length && char.IsLowSurrogate(p[i + 1]))
            {
                atom = sb.Length;
                if (utf16) sb.Append($"(?:\\u{(int)c:X4}\\u{(int)p[i + 1]:X4})");
                else sb.Append($"\\u{(int)StandIn(char.ConvertToUtf32(c, p[i + 1])):X4}");
                i += 2;
            }
            else
            {
                atom = c is '|' or '^' or '$' ? -1 : sb.Length;
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    private static bool IsQuantifier(string p, int i, out int close)
    {
        close = p.IndexOf('}', i);
        if (close < 0) return false;
        var body = p.AsSpan(i + 1, close - i - 1);
        if (body.IsEmpty) return false;
        int comma = body.IndexOf(',');
        bool Digits(ReadOnlySpan<char> s) { foreach (char ch in s) if (!char.IsAsciiDigit(ch)) return false; return true; }
        if (comma < 0) return Digits(body);
        var lo = body[..comma];
        var hi = body[(comma + 1)..];
        if (body.Slice(comma + 1).Contains(',')) return false;
        if (lo.IsEmpty && hi.IsEmpty) return false;
        return Digits(lo) && Digits(hi);
    }

    private static int TranslateEscape(string p, int i, StringBuilder sb, bool inClass)
    {
        char e = p[i + 1];
        switch (e)
        {
            case 'w': sb.Append(inClass ? WordBody : Word); return i + 2;
            case 'W' when !inClass: sb.Append(NotWord); return i + 2;
            case 'b' when !inClass: sb.Append($"(?:(?<={Word})(?!{Word})|(?<!{Word})(?={Word}))"); return i + 2;
            case 'B' when !inClass: sb.Append($"(?:(?<={Word})(?={Word})|(?<!{Word})(?!{Word}))"); return i + 2;
            case 'h': sb.Append(inClass ? "0-9a-fA-F" : "[0-9a-fA-F]"); return i + 2;
            case 'H': sb.Append(inClass ? @"\x00-/:-@G-`g-\uFFFF" : "[^0-9a-fA-F]"); return i + 2;
            case 'x' when i + 2 < p.Length && p[i + 2] == '{':
            {
                int close = p.IndexOf('}', i);
                int cp = int.Parse(p.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber);
                if (cp < 0x10000) sb.Append($"\\u{cp:X4}");
                else sb.Append($"\\u{(int)StandIn(cp):X4}");
                return close + 1;
            }
            case 'p' or 'P' when i + 2 < p.Length && p[i + 2] == '{':
            {
                int close = p.IndexOf('}', i);
                string name = p[(i + 3)..close];
                bool neg = e == 'P';
                if (name.StartsWith('^')) { neg = !neg; name = name[1..]; }
                string body = name switch
                {
                    "Word" => neg ? (inClass ? @"\W" : NotWord) : (inClass ? WordBody : Word),
                    "Alpha" or "Alphabetic" => @"\p{L}\p{M}\p{Nl}",
                    "Digit" => @"\p{Nd}",
                    "Space" or "White_Space" => @"\s",
                    "Punct" or "Punctuation" => @"\p{P}",
                    _ => $"\\p{{{name}}}",
                };
                if (name is "Word") { sb.Append(body); return close + 1; }
                if (name is "Alpha" or "Alphabetic" or "Digit" or "Space" or "White_Space" or "Punct" or "Punctuation")
                {
                    if (neg) sb.Append(inClass ? "" : "[^").Append(body).Append(inClass ? "" : "]");
                    else sb.Append(inClass ? body : "[" + body + "]");
                    return close + 1;
                }
                sb.Append('\\').Append(neg ? 'P' : 'p').Append('{').Append(name).Append('}');
                return close + 1;
            }
            default:
                sb.Append('\\').Append(e);
                return i + 2;
        }
    }

    private static readonly Dictionary<string, string> Posix = new()
    {
        ["alpha"] = @"\p{L}\p{M}", ["digit"] = @"\p{Nd}", ["alnum"] = @"\p{L}\p{M}\p{Nd}", ["space"] = @"\s",
        ["upper"] = @"\p{Lu}", ["lower"] = @"\p{Ll}", ["punct"] = @"\p{P}", ["xdigit"] = "0-9a-fA-F",
        ["word"] = @"\w", ["blank"] = @"\p{Zs}\t", ["cntrl"] = @"\p{Cc}",
    };

    /// <summary>Copies a bracket class starting at p[i]; nested non-negated classes are flattened (union). With
    /// <paramref name="utf16"/>, its supplementary members become alternatives of surrogate pairs beside it.</summary>
    private static int TranslateClass(string p, int i, StringBuilder sb, bool utf16)
    {
        if (!utf16) return TranslateClass(p, i, sb, supplementary: null);
        var bmp = new StringBuilder();
        var ranges = new List<(int Lo, int Hi)>();
        int end = TranslateClass(p, i, bmp, ranges);
        if (ranges.Count == 0)
        {
            sb.Append(bmp);
            return end;
        }
        sb.Append("(?:");
        if (bmp.Length > 2) sb.Append(bmp).Append('|'); // "[]" when every member is supplementary
        sb.AppendJoin('|', ranges.Select(r => SurrogateAlternatives(r.Lo, r.Hi)));
        sb.Append(')');
        return end;
    }

    /// <summary>Code points [lo, hi] (supplementary) as a .NET pattern over their UTF-16 surrogate pairs.</summary>
    internal static string SurrogateAlternatives(int lo, int hi)
    {
        static (char High, char Low) Pair(int cp) => (char.ConvertFromUtf32(cp)[0], char.ConvertFromUtf32(cp)[1]);
        static string U(char c) => $"\\u{(int)c:X4}";
        var (h1, l1) = Pair(lo);
        var (h2, l2) = Pair(hi);
        if (h1 == h2) return $"{U(h1)}[{U(l1)}-{U(l2)}]";
        var parts = new List<string> { $"{U(h1)}[{U(l1)}-\\uDFFF]" };
        if (h2 - h1 > 1) parts.Add($"[{U((char)(h1 + 1))}-{U((char)(h2 - 1))}][\\uDC00-\\uDFFF]");
        parts.Add($"{U(h2)}[\\uDC00-{U(l2)}]");
        return string.Join('|', parts);
    }

    private static int TranslateClass(string p, int i, StringBuilder sb, List<(int Lo, int Hi)>? supplementary)
    {
        sb.Append('[');
        i++;
        if (i < p.Length && p[i] == '^') { sb.Append('^'); i++; }
        bool first = true;
        while (i < p.Length)
        {
            char c = p[i];
            if (c == ']' && !first) { sb.Append(']'); return i + 1; }
            first = false;
            if (c == '\\' && i + 1 < p.Length) { i = TranslateEscape(p, i, sb, inClass: true); continue; }
            if (c == '[')
            {
                if (i + 1 < p.Length && p[i + 1] == ':')
                {
                    int close = p.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (close > 0 && Posix.TryGetValue(p[(i + 2)..close], out var body))
                    {
                        sb.Append(body);
                        i = close + 2;
                        continue;
                    }
                }
                // nested class: union with its members (negated nested classes are not supported)
                int depth = 1;
                int j = i + 1;
                var inner = new StringBuilder();
                while (j < p.Length && depth > 0)
                {
                    if (p[j] == '\\' && j + 1 < p.Length) { j = TranslateEscape(p, j, inner, inClass: true); continue; }
                    if (p[j] == '[') depth++;
                    else if (p[j] == ']') { depth--; if (depth == 0) { j++; break; } }
                    if (p[j] != '[' || true) inner.Append(p[j] is '[' ? "\\[" : p[j].ToString());
                    j++;
                }
                sb.Append(inner);
                i = j;
                continue;
            }
            if (supplementary != null && char.IsHighSurrogate(c) && i + 1 < p.Length && char.IsLowSurrogate(p[i + 1]))
            {
                int lo = char.ConvertToUtf32(c, p[i + 1]), hi = lo;
                i += 2;
                if (i + 2 < p.Length && p[i] == '-' && char.IsHighSurrogate(p[i + 1]) && char.IsLowSurrogate(p[i + 2]))
                {
                    hi = char.ConvertToUtf32(p[i + 1], p[i + 2]);
                    i += 3;
                }
                supplementary.Add((lo, hi));
                continue;
            }
            if (char.IsHighSurrogate(c) && i + 1 < p.Length && char.IsLowSurrogate(p[i + 1]))
            {
                // supplementary characters are matched as their category's stand-in (see Matches)
                sb.Append($"\\u{(int)StandIn(char.ConvertToUtf32(c, p[i + 1])):X4}");
                i += 2;
                if (i + 2 < p.Length && p[i] == '-' && char.IsHighSurrogate(p[i + 1]) && char.IsLowSurrogate(p[i + 2]))
                {
                    sb.Append($"\\u{(int)StandIn(char.ConvertToUtf32(p[i + 1], p[i + 2])):X4}");
                    i += 3;
                }
                continue;
            }
            if (c == '&' && i + 1 < p.Length && p[i + 1] == '&')
            {
                sb.Append("&&"); // intersection: not supported by .NET; kept literally
                i += 2;
                continue;
            }
            sb.Append(c);
            i++;
        }
        return i;
    }
}
