using Vivace.Tests;
namespace Vivace.Tokenizers.Tests;

/// <summary>Truncation and padding from tokenizer.json and set in code, counted as the reference counts.</summary>
public class TruncationPaddingTests
{
    [SkippableFact]
    public void MiniLm_file_settings_match_reference_on_long_inputs()
    {
        string path = Oracle.Path("daulet-tokenizers/all-minilm-l6-v2.tokenizer.json");
        var lines = Corpus.Lines;
        // Long inputs (joined corpus lines) exercise truncation at 256; short ones padding to multiples of 8.
        var inputs = Enumerable.Range(0, 120).Select(i => string.Join(" ", lines.Skip(i * 37).Take(5 + i % 40))).ToList();
        var expected = Oracle.EncodeAll(path, inputs);
        var tok = TestTokenizers.MiniLm;
        Assert.Equal(256, tok.Truncation!.MaxLength);
        Assert.Equal(8, tok.Padding!.PadToMultipleOf);
        int truncated = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            var ours = tok.Encode(inputs[i]);
            Assert.Equal(expected[i], ours.Ids);
            Assert.Equal(0, ours.Length % 8);
            if (ours.Length == 256 && ours.AttentionMask[^1] == 1) truncated++;
        }
        Assert.True(truncated > 10, $"only {truncated} inputs reached the truncation limit");
    }

    [SkippableFact]
    public void Padding_marks_pad_tokens_and_batch_pads_to_longest_rounded_up()
    {
        var tok = TestTokenizers.MiniLm;
        var single = tok.Encode("hello world");
        Assert.Equal([101, 7592, 2088, 102, 0, 0, 0, 0], single.Ids);
        Assert.Equal([1, 1, 1, 1, 0, 0, 0, 0], single.AttentionMask);
        Assert.Equal([1, 0, 0, 1, 1, 1, 1, 1], single.SpecialTokensMask);
        Assert.Equal("[PAD]", single.Tokens[^1]);

        var batch = tok.EncodeBatch(["hello", "one two three four five six seven eight nine"]);
        Assert.Equal(16, batch[0].Length);
        Assert.Equal(16, batch[1].Length);
        Assert.Equal(3, batch[0].AttentionMask.Sum());

        var unpadded = tok.WithoutPadding().EncodeBatch(["hello", "one two three"]);
        Assert.Equal(3, unpadded[0].Length);
        Assert.Equal(5, unpadded[1].Length);

        var left = tok.WithPadding(new PaddingOptions(PaddingStrategy.Fixed, FixedLength: 6, Direction: PaddingDirection.Left)).Encode("hello");
        Assert.Equal([0, 0, 0, 101, 7592, 102], left.Ids);
        Assert.Equal([0, 0, 0, 1, 1, 1], left.AttentionMask);
    }

    [SkippableFact]
    public void WithTruncation_counts_special_tokens_and_honours_direction()
    {
        var tok = TestTokenizers.Uncased;
        Assert.Null(tok.Truncation);
        const string text = "one two three four five six seven";
        var right = tok.WithTruncation(5).Encode(text);
        Assert.Equal(["[CLS]", "one", "two", "three", "[SEP]"], right.Tokens);
        var left = tok.WithTruncation(5, direction: TruncationDirection.Left).Encode(text);
        Assert.Equal(["[CLS]", "five", "six", "seven", "[SEP]"], left.Tokens);
        var noSpecial = tok.WithTruncation(5).Encode(text, addSpecialTokens: false);
        Assert.Equal(5, noSpecial.Length);
        Assert.Equal(2, tok.WithTruncation(1).Encode(text).Length); // budget below the specials: only [CLS] [SEP]
        Assert.Equal(9, tok.WithTruncation(5).WithoutTruncation().Encode(text).Length);
    }

    [SkippableFact]
    public void Pair_truncation_strategies()
    {
        var tok = TestTokenizers.Uncased;
        const string a = "a b c d e f g h";     // 8 tokens
        const string b = "one two three";       // 3 tokens
        // LongestFirst: budget 10 - 3 specials = 7; the shorter keeps 3, the longer gets 4.
        var lf = tok.WithTruncation(10).EncodePair(a, b);
        Assert.Equal(["[CLS]", "a", "b", "c", "d", "[SEP]", "one", "two", "three", "[SEP]"], lf.Tokens);
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 1], lf.TypeIds);
        // Both long: split evenly.
        var even = tok.WithTruncation(9).EncodePair(a, a + " i j");
        Assert.Equal(3, even.TypeIds.Count(t => t == 0) - 2);
        Assert.Equal(3, even.TypeIds.Count(t => t == 1) - 1);
        var onlySecond = tok.WithTruncation(13, TruncationStrategy.OnlySecond).EncodePair(a, b);
        Assert.Equal(["[CLS]", "a", "b", "c", "d", "e", "f", "g", "h", "[SEP]", "one", "two", "[SEP]"], onlySecond.Tokens);
        // Removing all of the second sequence is an error, as in the reference.
        Assert.Throws<InvalidOperationException>(() => tok.WithTruncation(11, TruncationStrategy.OnlySecond).EncodePair(a, b));
        Assert.Throws<InvalidOperationException>(() => tok.WithTruncation(6, TruncationStrategy.OnlySecond).EncodePair(a, b));
        var onlyFirst = tok.WithTruncation(8, TruncationStrategy.OnlyFirst).EncodePair(a, b);
        Assert.Equal(["[CLS]", "a", "b", "[SEP]", "one", "two", "three", "[SEP]"], onlyFirst.Tokens);
    }
}
