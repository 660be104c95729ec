using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Vivace.Tokenizers.PreTokenizers;
using Vivace.Tokenizers.Unicode;
using Xunit.Abstractions;

namespace Vivace.Tokenizers.Tests;

/// <summary>Split with Oniguruma patterns collected from the Hub against the outputs of Python tokenizers 0.22.2
/// (tokenizers.js fixture): every pattern x input, default behaviour Removed + invert (the matches themselves).</summary>
public class SplitRegexOracleTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Split_patterns_match_reference()
    {
        using var patternsDoc = JsonDocument.Parse(File.ReadAllText(Oracle.Path("tokenizers.js/splitRegexPatterns.json")));
        using var gz = new GZipStream(File.OpenRead(Oracle.Path("tokenizers.js/splitRegexOracle.json.gz")), CompressionMode.Decompress);
        using var oracleDoc = JsonDocument.Parse(gz);
        var root = patternsDoc.RootElement;
        var expectedAll = oracleDoc.RootElement.GetProperty("tokens");
        var defaults = root.GetProperty("defaults");
        var defaultInputs = defaults.GetProperty("inputs").EnumerateArray().Select(x => x.GetString()!).ToArray();
        var patterns = root.GetProperty("patterns").EnumerateArray()
            .ToDictionary(p => p.GetProperty("id").GetString()!, p => p);

        int cases = 0, bad = 0, knownBad = 0, patternErrors = 0;
        var report = new StringBuilder();
        void Run(string id, string pattern, string behavior, bool invert, string[] inputs, JsonElement expected, bool known)
        {
            SplitPreTokenizer split;
            try
            {
                split = new SplitPreTokenizer(new OnigRegex(pattern), Enum.Parse<DelimiterBehavior>(behavior), invert);
            }
            catch (ArgumentException e)
            {
                patternErrors++;
                report.AppendLine($"{id}: pattern rejected ({e.Message.Split('\n')[0]})");
                return;
            }
            var exp = expected.EnumerateArray().ToArray();
            for (int i = 0; i < inputs.Length; i++)
            {
                cases++;
                var pieces = new List<Piece>();
                split.Split(inputs[i], new Piece(0, inputs[i].Length), pieces);
                var ours = pieces.Select(p => inputs[i][p.Start..p.End]).ToArray();
                var want = exp[i].EnumerateArray().Select(x => x.GetString()!).ToArray();
                if (ours.SequenceEqual(want)) continue;
                if (known) { knownBad++; continue; }
                if (bad++ < 15)
                    report.AppendLine($"{id} {OracleParityTests.Escape(pattern)} on {OracleParityTests.Escape(inputs[i])}\n  ref:  {string.Join(" | ", want.Select(OracleParityTests.Escape))}\n  ours: {string.Join(" | ", ours.Select(OracleParityTests.Escape))}");
            }
        }

        foreach (var (id, p) in patterns)
        {
            var inputs = p.TryGetProperty("inputs", out var ins) ? ins.EnumerateArray().Select(x => x.GetString()!).ToArray() : defaultInputs;
            bool known = p.TryGetProperty("knownDivergence", out var k) && k.GetBoolean();
            if (!expectedAll.TryGetProperty(id, out _)) continue; // the reference rejects the pattern (no outputs)
            Run(id, p.GetProperty("pattern").GetString()!, "Removed", true, inputs, expectedAll.GetProperty(id), known);
        }
        foreach (var c in root.GetProperty("additionalCases").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            var p = patterns[c.GetProperty("patternId").GetString()!];
            bool known = c.TryGetProperty("knownDivergence", out var k) && k.GetBoolean();
            Run(name, p.GetProperty("pattern").GetString()!, JsonRead(c, "behavior") ?? "Removed",
                !c.TryGetProperty("invert", out var inv) || inv.GetBoolean(),
                c.GetProperty("inputs").EnumerateArray().Select(x => x.GetString()!).ToArray(), expectedAll.GetProperty(name), known);
        }
        output.WriteLine($"{cases} cases, {bad} differ, {knownBad} differ in cases marked knownDivergence, {patternErrors} patterns rejected\n{report}");
        Assert.True(bad == 0 && patternErrors == 0, $"{cases} cases, {bad} differ, {patternErrors} patterns rejected\n{report}");
    }

    private static string? JsonRead(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;
}
