using Vivace.Tests;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Vivace.Tokenizers.Tests;

[CollectionDefinition(nameof(ThroughputTests), DisableParallelization = true)]
public class ThroughputCollection;

/// <summary>Prints our throughput beside the reference's on the corpus (the number is informative). Runs alone;
/// the guard is loose (within 2x of the reference, which is typically several times slower than us) because
/// the machine is shared).</summary>
[Collection(nameof(ThroughputTests))]
public class ThroughputTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Corpus_throughput_beside_reference()
    {
        string path = Oracle.Path("FastBertTokenizer/bert-base-uncased/tokenizer.json");
        var tok = TestTokenizers.Uncased;
        var lines = Corpus.Lines;
        long chars = lines.Sum(l => (long)l.Length);
        // Warm up until tiered JIT has produced optimized code, then take the best of several passes.
        for (int r = 0; r < 6; r++) foreach (var l in lines) tok.Encode(l);
        Oracle.EncodeAll(path, lines.Take(200).ToList());

        long tokens = 0;
        double ours = double.MaxValue, reference = double.MaxValue, batch = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            var sw = Stopwatch.StartNew();
            tokens = 0;
            foreach (var l in lines) tokens += tok.Encode(l).Length;
            ours = Math.Min(ours, sw.Elapsed.TotalSeconds);
            sw.Restart();
            Oracle.EncodeAll(path, lines);
            reference = Math.Min(reference, sw.Elapsed.TotalSeconds);
            sw.Restart();
            tok.EncodeBatch(lines);
            batch = Math.Min(batch, sw.Elapsed.TotalSeconds);
        }

        output.WriteLine($"{lines.Count} lines, {chars / 1e6:F2} M chars, {tokens} tokens");
        output.WriteLine($"Vivace single: {chars / ours / 1e6:F1} M chars/s; batch ({Environment.ProcessorCount} cores): {chars / batch / 1e6:F1} M chars/s");
        output.WriteLine($"HF tokenizers via Tokenizers.DotNet (single, includes interop): {chars / reference / 1e6:F1} M chars/s");
        Assert.True(ours < 2 * reference, $"far slower than the reference: {ours:F3} s vs {reference:F3} s");
    }
}
