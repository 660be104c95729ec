using Vivace.Tests;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Tests;

/// <summary>The hand-written matchers of common pre-tokenization patterns give exactly the regex engine's
/// matches (the regex, translated and run by .NET, is the reference beside them).</summary>
public class HandWrittenPatternTests
{
    private static List<(int, int)> Regex(string pattern, string text)
    {
        var list = new List<(int, int)>();
        new OnigRegex(pattern, handWritten: false).Matches(text, list);
        return list;
    }

    private static List<(int, int)> HandWritten(string pattern, string text)
    {
        var list = new List<(int, int)>();
        new OnigRegex(pattern).Matches(text, list);
        return list;
    }

    public static TheoryData<string> Patterns() => new([Gpt2PatternSplitter.Pattern]);

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Hand_written_matcher_is_in_use(string pattern)
    {
        var field = typeof(OnigRegex).GetField("_handWritten", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        Assert.NotNull(field.GetValue(new OnigRegex(pattern)));
        Assert.Null(field.GetValue(new OnigRegex(pattern, handWritten: false)));
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Matches_the_regex_on_edge_cases(string pattern)
    {
        string[] cases =
        [
            "", " ", "  ", "a", " a", "  a", "'s", " 's", "''s", "'S", "'re'", "'ll've", "don't", "I'm here", "x'", "'",
            "a  b", "a \n b", "\n\n\nx", "\t \t", "end   ", "1,000.5", " 42", "  42abc", "¿Qué?", "\u00A0a", "a\u3000b",
            "\U0001D49C\U0001D49Cx", " \U0001D7D8\U0001D7D9", "😀😀 a", " 😀", "\uD800x", "x\uDC00", "e\u0301", "\r\n\r\n",
        ];
        foreach (string text in cases) Assert.Equal(Regex(pattern, text), HandWritten(pattern, text));
    }

    [SkippableTheory]
    [MemberData(nameof(Patterns))]
    public void Matches_the_regex_on_the_corpus(string pattern)
    {
        var regex = new OnigRegex(pattern, handWritten: false);
        var fast = new OnigRegex(pattern);
        List<(int, int)> a = [], b = [];
        foreach (string line in Corpus.Lines)
        {
            a.Clear();
            b.Clear();
            regex.Matches(line, a);
            fast.Matches(line, b);
            if (!a.SequenceEqual(b)) Assert.Fail($"{OracleParityTests.Escape(line)}: regex {string.Join(' ', a)} / hand-written {string.Join(' ', b)}");
        }
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Matches_the_regex_on_random_strings(string pattern)
    {
        string[] alphabet =
        [
            "a", "Z", "s", "t", "r", "e", "v", "l", "m", "d", "S", "'", " ", " ", "\n", "\r", "\t", "1", "٣", "½", "Ⅻ", ".", ",", "!",
            "\u00A0", "\u2028", "\u3000", "\u0301", "é", "中", "😀", "\U0001D49C", "\U0001D7D8", "\uD800", "\uDC00", "_", "-", "\u200D",
        ];
        var random = new Random(1234);
        var regex = new OnigRegex(pattern, handWritten: false);
        var fast = new OnigRegex(pattern);
        List<(int, int)> a = [], b = [];
        for (int trial = 0; trial < 20_000; trial++)
        {
            var sb = new System.Text.StringBuilder();
            int length = random.Next(1, 14);
            for (int k = 0; k < length; k++) sb.Append(alphabet[random.Next(alphabet.Length)]);
            string text = sb.ToString();
            a.Clear();
            b.Clear();
            regex.Matches(text, a);
            fast.Matches(text, b);
            if (!a.SequenceEqual(b)) Assert.Fail($"{OracleParityTests.Escape(text)}: regex {string.Join(' ', a)} / hand-written {string.Join(' ', b)}");
        }
    }
}
