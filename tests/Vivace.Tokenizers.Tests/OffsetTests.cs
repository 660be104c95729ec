using Vivace.Tests;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Tests;

/// <summary>Offsets are exact UTF-16 ranges of the original text (the oracle binding exposes none, so we check
/// them against the text itself).</summary>
public class OffsetTests
{
    [SkippableFact]
    public void Simple_sentence_offsets()
    {
        const string text = "Héllo, wörld! [MASK] tokenization";
        var e = TestTokenizers.Uncased.Encode(text);
        Assert.Equal(["[CLS]", "hello", ",", "world", "!", "[MASK]", "token", "##ization", "[SEP]"], e.Tokens);
        Assert.Equal([(0, 0), (0, 5), (5, 6), (7, 12), (12, 13), (14, 20), (21, 26), (26, 33), (0, 0)], e.Offsets);
        Assert.Equal([1, 0, 0, 0, 0, 0, 0, 0, 1], e.SpecialTokensMask);
    }

    [SkippableFact]
    public void Decomposed_and_astral_text_offsets()
    {
        const string text = "e\u0301te\u0301 𠀀x";
        var e = TestTokenizers.Cased.Encode(text, addSpecialTokens: false);
        foreach (var (s, end) in e.Offsets) Assert.True(s < end);
        // The CJK ideograph (a surrogate pair) is its own word: its offsets cover both code units.
        int i = Array.FindIndex(e.Offsets, o => o.Start == 6);
        Assert.True(i >= 0, string.Join(" ", e.Offsets));
        Assert.Equal((6, 8), e.Offsets[i]);
        Assert.Equal("[UNK]", e.Tokens[i]); // not in the vocabulary: one unknown for the whole word
        Assert.Equal((8, 9), e.Offsets[^1]);
    }

    [SkippableFact]
    public void Uncased_ascii_corpus_offsets_spell_the_tokens()
    {
        var tok = TestTokenizers.Uncased;
        int checkedTokens = 0;
        foreach (var line in Corpus.Lines.Where(l => l.All(c => c is >= ' ' and < '\u007F')))
        {
            var e = tok.Encode(line, addSpecialTokens: false);
            for (int i = 0; i < e.Length; i++)
            {
                if (tok.AddedTokens.Any(t => t.Id == e.Ids[i])) continue;
                var (s, end) = e.Offsets[i];
                string piece = e.Tokens[i].StartsWith("##", StringComparison.Ordinal) ? e.Tokens[i][2..] : e.Tokens[i];
                Assert.Equal(piece, line[s..end].ToLowerInvariant());
                if (i > 0) Assert.True(s >= e.Offsets[i - 1].End);
                checkedTokens++;
            }
        }
        Assert.True(checkedTokens > 30_000, $"only {checkedTokens} tokens checked");
    }

    [SkippableFact]
    public void Cased_corpus_offsets_spell_the_tokens_minus_removed_chars()
    {
        var tok = TestTokenizers.Cased;
        int checkedTokens = 0;
        foreach (var line in Corpus.Lines)
        {
            var e = tok.Encode(line, addSpecialTokens: false);
            for (int i = 0; i < e.Length; i++)
            {
                var (s, end) = e.Offsets[i];
                Assert.True(0 <= s && s < end && end <= line.Length);
                if (i > 0) Assert.True(s >= e.Offsets[i - 1].End, $"overlap in {OracleParityTests.Escape(line)}");
                if (e.Tokens[i] == "[UNK]" || e.Tokens[i].StartsWith("[", StringComparison.Ordinal)) continue;
                string piece = e.Tokens[i].StartsWith("##", StringComparison.Ordinal) ? e.Tokens[i][2..] : e.Tokens[i];
                string original = string.Concat(line[s..end].EnumerateRunes()
                    .Where(r => r.Value != 0xFFFD && !CharClass.IsOther(r.Value)).Select(r => r.ToString()));
                Assert.Equal(piece, original);
                checkedTokens++;
            }
        }
        Assert.True(checkedTokens > 30_000, $"only {checkedTokens} tokens checked");
    }

    [SkippableFact]
    public void Pair_offsets_refer_to_each_sequence()
    {
        var e = TestTokenizers.Uncased.EncodePair("Who?", "Me.");
        Assert.Equal(["[CLS]", "who", "?", "[SEP]", "me", ".", "[SEP]"], e.Tokens);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1], e.TypeIds);
        Assert.Equal([(0, 0), (0, 3), (3, 4), (0, 0), (0, 2), (2, 3), (0, 0)], e.Offsets);
    }
}
