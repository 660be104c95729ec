using System.Diagnostics;
using Vivace.Tests;
using Xunit.Abstractions;
using static Vivace.Tokenizers.Tests.BpeTestFiles;

namespace Vivace.Tokenizers.Tests;

/// <summary>Prints encode throughput beside the reference (Tokenizers.DotNet); informative, asserts nothing
/// about speed (run with -c Release for meaningful numbers).</summary>
public class BpeThroughputReport(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData(Gpt2)]
    [InlineData(Llama2)]
    public void Encode_throughput_vs_reference(string file)
    {
        var lines = Corpus.Lines;
        long chars = lines.Sum(l => (long)l.Length);
        var tok = Load(file);
        foreach (var l in lines) tok.Encode(l);
        var sw = Stopwatch.StartNew();
        for (int r = 0; r < 3; r++) foreach (var l in lines) tok.Encode(l);
        double ours = sw.Elapsed.TotalSeconds / 3;
        Oracle.EncodeAll(Oracle.Path(file), lines);
        sw.Restart();
        for (int r = 0; r < 3; r++) Oracle.EncodeAll(Oracle.Path(file), lines);
        double theirs = sw.Elapsed.TotalSeconds / 3;
        output.WriteLine($"{file}: ours {chars / ours / 1e6:F1} Mchar/s, reference {chars / theirs / 1e6:F1} Mchar/s ({lines.Count} lines, single thread)");
    }
}
