using Vivace.Tests;
using System.Text;
using Xunit.Abstractions;

namespace Vivace.Tokenizers.Tests;

/// <summary>Ids for every corpus line equal the reference's, for every WordPiece tokenizer.json we have.</summary>
public class OracleParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files() => new(Oracle.WordPieceFiles);

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Ids_match_reference_on_corpus(string file)
    {
        string path = Oracle.Path(file);
        Oracle.AssertSameIds(Tokenizer.FromFile(path), path, Corpus.Lines, output);
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Batch_equals_single_and_matches_reference(string file)
    {
        string path = Oracle.Path(file);
        var lines = Corpus.Lines.Take(400).ToList();
        var tok = Tokenizer.FromFile(path).WithoutPadding();
        var batch = tok.EncodeBatch(lines);
        for (int i = 0; i < lines.Count; i++)
            Assert.Equal(tok.Encode(lines[i]).Ids, batch[i].Ids);
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Decode_matches_reference(string file)
    {
        string path = Oracle.Path(file);
        var tok = Tokenizer.FromFile(path);
        int differing = 0;
        var report = new StringBuilder();
        var lines = Corpus.Lines.Where((_, i) => i % 7 == 0).ToList();
        foreach (var line in lines)
        {
            var ids = tok.Encode(line).Ids;
            string expected = Oracle.Decode(path, ids);
            string ours = tok.Decode(ids);
            if (expected == ours) continue;
            if (differing++ < 5) report.AppendLine($"{Escape(line)}\n  ref:  {Escape(expected)}\n  ours: {Escape(ours)}");
        }
        output.WriteLine($"{file}: decode {lines.Count} lines, {differing} differing");
        Assert.True(differing == 0, report.ToString());
    }

    internal static string Escape(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s.Length > 200 ? s[..200] : s)
            sb.Append(c < 0x20 || c is >= '\u007F' and <= '\u00A0' || char.IsSurrogate(c) && false ? $"\\u{(int)c:X4}" : c.ToString());
        return sb.Append('"').ToString();
    }
}
