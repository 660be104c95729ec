using Xunit.Abstractions;

namespace Vivace.Tokenizers.Tests;

/// <summary>Ids and decodes equal the reference's on the corpus for every Unigram tokenizer.json we have.</summary>
public class SpmOracleParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files() => new(Oracle.UnigramFiles);

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Ids_match_reference_on_corpus(string file) => new OracleParityTests(output).Ids_match_reference_on_corpus(file);

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Batch_equals_single(string file) => new OracleParityTests(output).Batch_equals_single_and_matches_reference(file);

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Decode_matches_reference(string file) => new OracleParityTests(output).Decode_matches_reference(file);
}
