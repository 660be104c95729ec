namespace Vivace.Tokenizers.Tests;

/// <summary>Inputs that must not throw and must give sane output.</summary>
public class HostileInputTests
{
    private static void AssertSane(Encoding e, string text)
    {
        Assert.Equal(e.Ids.Length, e.Tokens.Length);
        Assert.Equal(e.Ids.Length, e.Offsets.Length);
        Assert.Equal(e.Ids.Length, e.TypeIds.Length);
        Assert.Equal(e.Ids.Length, e.AttentionMask.Length);
        Assert.Equal(e.Ids.Length, e.SpecialTokensMask.Length);
        foreach (var (s, end) in e.Offsets) Assert.True(0 <= s && s <= end && end <= text.Length, $"offset ({s},{end}) outside 0..{text.Length}");
    }

    [SkippableTheory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t\n\r \u3000\u00A0")]
    [InlineData("\0\0\0")]
    [InlineData("\uFFFD\u200B\u0001")]
    public void Nothing_to_tokenize_gives_cls_sep(string text)
    {
        var e = TestTokenizers.Uncased.Encode(text);
        AssertSane(e, text);
        Assert.Equal(["[CLS]", "[SEP]"], e.Tokens);
        Assert.Equal([101, 102], e.Ids);
        Assert.Equal("", TestTokenizers.Uncased.Decode(e.Ids));
        Assert.Empty(TestTokenizers.Uncased.Encode(text, addSpecialTokens: false).Ids);
    }

    [SkippableFact]
    public void Hundred_thousand_char_word_is_one_unk()
    {
        string text = new('x', 100_000);
        var e = TestTokenizers.Uncased.Encode(text);
        AssertSane(e, text);
        Assert.Equal(["[CLS]", "[UNK]", "[SEP]"], e.Tokens);
        Assert.Equal((0, 100_000), e.Offsets[1]);
    }

    [SkippableFact]
    public void Hundred_thousand_chars_of_words_truncate_and_stay_exact()
    {
        string text = string.Concat(Enumerable.Repeat("hello world, ", 8000));
        var full = TestTokenizers.Uncased.Encode(text);
        AssertSane(full, text);
        Assert.Equal(3 * 8000 + 2, full.Length);
        var truncated = TestTokenizers.MiniLm.Encode(text);
        Assert.Equal(256, truncated.Length);
        Assert.Equal(102, truncated.Ids[^1]);
    }

    [SkippableTheory]
    [InlineData("a\uD800b", "ab")]
    [InlineData("a\uDC00b", "ab")]
    [InlineData("\uD83D", "")]
    [InlineData("x \uDE00\uD83D y", "x y")]
    [InlineData("nul\0in\0side", "nulinside")]
    public void Lone_surrogates_and_nul_are_dropped_like_invalid_chars(string text, string equivalent)
    {
        var e = TestTokenizers.Uncased.Encode(text);
        AssertSane(e, text);
        Assert.Equal(TestTokenizers.Uncased.Encode(equivalent).Ids, e.Ids);
    }

    [SkippableFact]
    public void Cased_model_keeps_lone_surrogate_out_and_valid_pairs_in()
    {
        string text = "😀\uD800😀";
        var e = TestTokenizers.Cased.Encode(text);
        AssertSane(e, text);
        Assert.Equal(TestTokenizers.Cased.Encode("😀😀").Ids, e.Ids);
    }

    [SkippableFact]
    public void Batch_of_hostile_inputs_does_not_throw()
    {
        string[] texts = ["", "\0", new string('\uD800', 50), new string(' ', 10_000), "ok", new string('y', 100_000)];
        var batch = TestTokenizers.MiniLm.EncodeBatch(texts);
        Assert.Equal(texts.Length, batch.Count);
        Assert.All(batch, e => Assert.Equal(batch[0].Length, e.Length));
        Assert.Equal(8, batch[0].Length); // padded to a multiple of 8
    }

    [SkippableFact]
    public void Ids_only_encode_of_hostile_inputs_equals_the_full_encode()
    {
        string[] texts = ["", "\0", "a\0b", new string('\uD800', 50), "x\uDC00y", new string(' ', 10_000), new string('y', 100_000),
            string.Concat(Enumerable.Repeat("😀", 20_000)), "[CLS][SEP][PAD] [MASK]", "\u0007\u001B[0m\u200B\uFEFF"];
        foreach (var tok in new[] { TestTokenizers.Uncased, TestTokenizers.Cased, TestTokenizers.MiniLm })
            foreach (string text in texts)
                Assert.Equal(tok.Encode(text).Ids, tok.EncodeToIds(text));
    }
}
