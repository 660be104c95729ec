using Vivace.Tests;
using System.Globalization;
using Xunit.Abstractions;

namespace Vivace.Tokenizers.Tests;

/// <summary>The parity corpus really is large and multilingual (otherwise parity would prove little).</summary>
public class CorpusTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Corpus_covers_scripts_and_hard_cases()
    {
        SharedData_present();
        var lines = Corpus.Lines;
        int Count(Func<int, bool> pred) => lines.Count(l => l.EnumerateRunes().Any(r => pred(r.Value)));
        var counts = new Dictionary<string, int>
        {
            ["non-ASCII"] = Count(cp => cp > 0x7F),
            ["CJK ideographs"] = Count(cp => cp is >= 0x4E00 and <= 0x9FFF),
            ["Hangul"] = Count(cp => cp is >= 0xAC00 and <= 0xD7A3),
            ["Cyrillic"] = Count(cp => cp is >= 0x400 and <= 0x4FF),
            ["Arabic"] = Count(cp => cp is >= 0x600 and <= 0x6FF),
            ["Devanagari"] = Count(cp => cp is >= 0x900 and <= 0x97F),
            ["Latin accents"] = Count(cp => cp is >= 0xC0 and <= 0x17F),
            ["combining marks"] = Count(cp => CharUnicodeInfo.GetUnicodeCategory(cp) == UnicodeCategory.NonSpacingMark),
            ["astral (emoji, ...)"] = Count(cp => cp > 0xFFFF),
            ["control chars"] = Count(cp => cp < 0x20 && cp is not ('\t' or '\n' or '\r')),
        };
        output.WriteLine($"{lines.Count} lines; " + string.Join(", ", counts.Select(kv => $"{kv.Key}: {kv.Value}")));
        Assert.True(lines.Count >= 3000);
        Assert.True(lines.Any(l => l.Length > 100 && !l.Contains(' ')), "no word over 100 chars");
        foreach (var (name, n) in counts) Assert.True(n >= 5, $"only {n} lines with {name}");
    }

    private static void SharedData_present() => Oracle.Path("swift-transformers/multilingual-conformance/inputs.json");
}
