using System.Text;
using Vivace.Tests;
using Xunit.Abstractions;
using static Vivace.Tokenizers.Tests.BpeTestFiles;

namespace Vivace.Tokenizers.Tests;

/// <summary>Ids and decodes for every corpus line equal the reference's, for every BPE tokenizer.json we have;
/// byte-level BPE decodes back to the input.</summary>
public class BpeOracleParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files() => new(JsonFiles);

    private static IReadOnlyList<string> Lines() => [.. Corpus.Lines, .. Corpus.HardCases];

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Ids_match_reference_on_corpus(string file)
    {
        Oracle.AssertSameIds(Load(file), Oracle.Path(file), Lines(), output);
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Decode_matches_reference(string file)
    {
        var tok = Load(file);
        string path = Oracle.Path(file);
        int differing = 0;
        var report = new StringBuilder();
        var lines = Lines().Where((_, i) => i % 5 == 0).ToList();
        foreach (var line in lines)
        {
            var ids = tok.Encode(line).Ids;
            string expected = Oracle.Decode(path, ids);
            string ours = tok.Decode(ids);
            if (expected == ours) continue;
            if (differing++ < 5) report.AppendLine($"{OracleParityTests.Escape(line)}\n  ref:  {OracleParityTests.Escape(expected)}\n  ours: {OracleParityTests.Escape(ours)}");
        }
        output.WriteLine($"{file}: decode {lines.Count} lines, {differing} differing");
        Assert.True(differing == 0, report.ToString());
    }

    [SkippableTheory]
    [InlineData(Gpt2)]
    [InlineData(Roberta)]
    [InlineData(Phi2)]
    [InlineData(Llama3Tiktoken)]
    [InlineData(Cl100kTiktoken)]
    public void Byte_level_decode_of_encode_is_identity(string file)
    {
        var tok = Load(file);
        int bad = 0;
        string? first = null;
        foreach (var line in Lines())
        {
            // lone surrogates cannot survive UTF-8; everything else must come back exactly
            if (HasLoneSurrogate(line)) continue;
            if (tok.Decode(tok.Encode(line, addSpecialTokens: false).Ids) != line) { bad++; first ??= line; }
        }
        Assert.True(bad == 0, $"{bad} lines do not round-trip, first: {first}");
    }

    [SkippableTheory]
    [InlineData(Gpt2)]
    [InlineData(Llama2)]
    public void Batch_equals_single(string file)
    {
        var tok = Load(file).WithoutPadding();
        var lines = Corpus.Lines.Take(300).ToList();
        var batch = tok.EncodeBatch(lines);
        for (int i = 0; i < lines.Count; i++)
        {
            var single = tok.Encode(lines[i]);
            Assert.Equal(single.Ids, batch[i].Ids);
            Assert.Equal(single.Offsets, batch[i].Offsets);
        }
    }

    private static bool HasLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) return true;
        }
        return false;
    }
}
