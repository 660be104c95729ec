using Vivace.Tests;
using Xunit.Abstractions;

namespace Vivace.Tokenizers.Tests;

/// <summary>
/// EncodeToIds (no offsets, word → ids cache, precomputed special-token layout) gives exactly
/// Encode(...).Ids for every tokenizer we have, under truncation and padding settings that make it cut, pad
/// on either side, and fall back to the full path; with and without special tokens.
/// </summary>
public class IdsOnlyEncodeTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files() => new(
        [.. Oracle.WordPieceFiles, .. Oracle.UnigramFiles, .. BpeTestFiles.JsonFiles, BpeTestFiles.AddedTokens,
         BpeTestFiles.Llama3Tiktoken, BpeTestFiles.Cl100kTiktoken]);

    private static readonly (string Name, Func<Tokenizer, Tokenizer> Configure)[] Settings =
    [
        ("as the file says", t => t),
        ("no truncation or padding", t => t.WithoutTruncation().WithoutPadding()),
        ("truncate right 12, stride 2", t => t.WithTruncation(12, stride: 2).WithoutPadding()),
        ("truncate left 9, pad to multiple of 8 on the left", t => t.WithTruncation(9, direction: TruncationDirection.Left)
            .WithPadding(new PaddingOptions(PadToMultipleOf: 8, Direction: PaddingDirection.Left, PadId: 3))),
        ("fixed padding 40 on the right", t => t.WithoutTruncation().WithPadding(new PaddingOptions(PaddingStrategy.Fixed, 40, PadId: 1))),
        ("truncate to 1 (fewer than the special tokens)", t => t.WithTruncation(1).WithoutPadding()),
    ];

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Ids_only_equals_full_encode(string file)
    {
        var baseTokenizer = BpeTestFiles.Load(file);
        var lines = Corpus.Lines.Where((_, i) => i % 9 == 0).ToList();
        foreach (var (name, configure) in Settings)
        {
            var tok = configure(baseTokenizer);
            foreach (bool special in new[] { true, false })
            {
                int differing = 0;
                string? first = null;
                foreach (string line in lines)
                {
                    int[] full, ids;
                    try { full = tok.Encode(line, special).Ids; }
                    catch (InvalidOperationException e)
                    {
                        // A truncation error of the full path must be the ids path's too.
                        var thrown = Assert.Throws<InvalidOperationException>(() => tok.EncodeToIds(line, special));
                        Assert.Equal(e.Message, thrown.Message);
                        continue;
                    }
                    ids = tok.EncodeToIds(line, special);
                    if (ids.AsSpan().SequenceEqual(full)) continue;
                    if (differing++ == 0)
                        first = $"{OracleParityTests.Escape(line)}\n  full: {string.Join(' ', full)}\n  ids:  {string.Join(' ', ids)}";
                }
                output.WriteLine($"{file} [{name}, special tokens {special}]: {lines.Count} lines, {differing} differing");
                Assert.True(differing == 0, $"{file} [{name}, special tokens {special}]: {differing} lines differ; first:\n{first}");
            }
        }
    }

    [SkippableFact]
    public void Repeated_words_are_answered_from_the_cache_consistently_across_threads()
    {
        var tok = BpeTestFiles.Load(BpeTestFiles.Gpt2).WithoutTruncation().WithoutPadding();
        var lines = Corpus.Lines.Take(3000).ToList();
        var expected = lines.Select(l => tok.Encode(l).Ids).ToArray();
        var got = new int[lines.Count][];
        Parallel.For(0, lines.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k => got[k % lines.Count] = tok.EncodeToIds(lines[k % lines.Count]));
        for (int i = 0; i < lines.Count; i++) Assert.Equal(expected[i], got[i]);
    }
}

/// <summary>Steady state: an ids-only encode allocates its result array and nothing per token.</summary>
public class IdsOnlyAllocationTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files() => new(
        [Oracle.WordPieceFiles[0], Oracle.UnigramFiles[0], BpeTestFiles.Gpt2, BpeTestFiles.Llama2, BpeTestFiles.Roberta]);

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Allocates_only_the_result(string file)
    {
        var tok = BpeTestFiles.Load(file).WithoutTruncation().WithoutPadding();
        var lines = Corpus.Lines.Take(2000).ToList();
        for (int pass = 0; pass < 2; pass++) foreach (string line in lines) tok.EncodeToIds(line); // fill caches, grow scratch

        long resultBytes = 0, tokens = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (string line in lines)
        {
            int n = tok.EncodeToIds(line).Length;
            tokens += n;
            resultBytes += 24 + 4L * ((n + 1) & ~1); // int[] object: header + length, payload padded to 8 bytes
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{file}: {lines.Count} lines, {tokens} tokens, {allocated} bytes allocated, results {resultBytes}");
        Assert.True(allocated <= resultBytes, $"{allocated - resultBytes} bytes beyond the {lines.Count} result arrays ({tokens} tokens)");
    }
}
