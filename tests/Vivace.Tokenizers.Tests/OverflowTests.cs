namespace Vivace.Tokenizers.Tests;

/// <summary>Truncation windows with stride (Encoding.Overflowing), following the reference's Encoding::truncate and
/// the merge of overflowing parts in post-processing.</summary>
public class OverflowTests
{
    private static Tokenizer Letters(string truncation, string padding = "null") => Tokenizer.FromJson("""
        {"version":"1.0","truncation":TRUNCATION,"padding":PADDING,
         "added_tokens":[{"id":0,"content":"[PAD]","special":true},{"id":1,"content":"[CLS]","special":true},{"id":2,"content":"[SEP]","special":true}],
         "pre_tokenizer":{"type":"Whitespace"},
         "post_processor":{"type":"TemplateProcessing",
           "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
           "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
           "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[1],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[2],"tokens":["[SEP]"]}}},
         "model":{"type":"WordLevel","unk_token":"[PAD]","vocab":{"[PAD]":0,"[CLS]":1,"[SEP]":2,
           "a":10,"b":11,"c":12,"d":13,"e":14,"f":15,"g":16,"h":17,"i":18,"j":19,"x":20,"y":21}}}
        """.Replace("TRUNCATION", truncation).Replace("PADDING", padding));

    private static string Letters(Encoding e) => string.Join(' ', e.Tokens);

    [Fact]
    public void Right_windows_overlap_by_stride()
    {
        var tok = Letters("""{"max_length":6,"strategy":"LongestFirst","direction":"Right","stride":2}""");
        var e = tok.Encode("a b c d e f g h i j");
        Assert.Equal("[CLS] a b c d [SEP]", Letters(e));
        Assert.Equal(["[CLS] c d e f [SEP]", "[CLS] e f g h [SEP]", "[CLS] g h i j [SEP]"], e.Overflowing.Select(Letters));
        Assert.All(e.Overflowing, o => Assert.Empty(o.Overflowing));
    }

    [Fact]
    public void Left_windows_move_towards_the_start()
    {
        var tok = Letters("""{"max_length":6,"strategy":"LongestFirst","direction":"Left","stride":2}""");
        var e = tok.Encode("a b c d e f g h i j");
        Assert.Equal("[CLS] g h i j [SEP]", Letters(e));
        Assert.Equal(["[CLS] e f g h [SEP]", "[CLS] c d e f [SEP]", "[CLS] a b c d [SEP]"], e.Overflowing.Select(Letters));
    }

    [Fact]
    public void Stride_zero_still_reports_the_rest_and_the_last_window_is_short()
    {
        var tok = Letters("""{"max_length":5,"strategy":"LongestFirst","direction":"Right","stride":0}""");
        var e = tok.Encode("a b c d e f g");
        Assert.Equal("[CLS] a b c [SEP]", Letters(e));
        Assert.Equal(["[CLS] d e f [SEP]", "[CLS] g [SEP]"], e.Overflowing.Select(Letters));
        Assert.Empty(tok.Encode("a b").Overflowing);
    }

    [Fact]
    public void Pair_windows_combine_as_the_reference_merges_them()
    {
        // Budget 4 after 3 specials: A (6 tokens) cut to 2, B (2 tokens) kept; stride 1 -> A windows step 1.
        var tok = Letters("""{"max_length":7,"strategy":"LongestFirst","direction":"Right","stride":1}""");
        var e = tok.EncodePair("a b c d e f", "x y");
        Assert.Equal("[CLS] a b [SEP] x y [SEP]", Letters(e));
        Assert.Equal(["[CLS] b c [SEP] x y [SEP]", "[CLS] c d [SEP] x y [SEP]", "[CLS] d e [SEP] x y [SEP]", "[CLS] e f [SEP] x y [SEP]"],
            e.Overflowing.Select(Letters));
        Assert.Equal([0, 0, 0, 0, 1, 1, 1], e.Overflowing[0].TypeIds);
    }

    [Fact]
    public void Pair_with_both_sides_overflowing()
    {
        // Budget 4: both 4 long -> 2 and 2; stride 0. A windows [a b] [c d], B windows [e f] [g h].
        var tok = Letters("""{"max_length":7,"strategy":"LongestFirst","direction":"Right","stride":0}""");
        var e = tok.EncodePair("a b c d", "e f g h");
        Assert.Equal("[CLS] a b [SEP] e f [SEP]", Letters(e));
        Assert.Equal(["[CLS] c d [SEP] e f [SEP]", "[CLS] c d [SEP] g h [SEP]", "[CLS] a b [SEP] g h [SEP]"], e.Overflowing.Select(Letters));
    }

    [Fact]
    public void OnlySecond_windows_the_second_sequence()
    {
        var tok = Letters("""{"max_length":7,"strategy":"OnlySecond","direction":"Right","stride":1}""");
        var e = tok.EncodePair("a", "b c d e f");
        Assert.Equal("[CLS] a [SEP] b c d [SEP]", Letters(e));
        Assert.Equal(["[CLS] a [SEP] d e f [SEP]"], e.Overflowing.Select(Letters));
    }

    [Fact]
    public void Overflowing_windows_are_padded_like_the_main_encoding()
    {
        var tok = Letters("""{"max_length":5,"strategy":"LongestFirst","direction":"Right","stride":1}""",
            """{"strategy":{"Fixed":6},"direction":"Right","pad_id":0,"pad_type_id":0,"pad_token":"[PAD]"}""");
        var e = tok.Encode("a b c d e");
        Assert.Equal("[CLS] a b c [SEP] [PAD]", Letters(e));
        Assert.Equal(["[CLS] c d e [SEP] [PAD]"], e.Overflowing.Select(Letters));
        Assert.Equal([1, 1, 1, 1, 1, 0], e.Overflowing[0].AttentionMask);
    }

    [Fact]
    public void Batch_encodings_carry_their_windows_padded_to_the_batch()
    {
        var tok = Letters("""{"max_length":5,"strategy":"LongestFirst","direction":"Right","stride":1}""",
            """{"strategy":"BatchLongest","direction":"Right","pad_id":0,"pad_type_id":0,"pad_token":"[PAD]"}""");
        var batch = tok.EncodeBatch(["a b c d e", "x", "a b c d e f g h i j"]);
        Assert.Equal(tok.Encode("a b c d e f g h i j").Overflowing.Select(Letters), batch[2].Overflowing.Select(Letters));
        Assert.Equal(["[CLS] c d e [SEP]"], batch[0].Overflowing.Select(Letters));
        Assert.Empty(batch[1].Overflowing);
        Assert.Equal("[CLS] x [SEP] [PAD] [PAD]", Letters(batch[1]));
    }

    [Fact]
    public void Stride_not_below_the_window_is_an_error()
    {
        var tok = Letters("""{"max_length":4,"strategy":"LongestFirst","direction":"Right","stride":2}""");
        var ex = Assert.Throws<InvalidOperationException>(() => tok.Encode("a b c d e"));
        Assert.Contains("stride", ex.Message);
    }
}
