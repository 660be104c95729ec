using Vivace.Engine.Generation;

namespace Vivace.Engine.Tests;

/// <summary>
/// Each step of <see cref="LogitsProcessor"/> against values worked out by hand from the transformers / OpenAI
/// definitions (the typical_p cases by a line-for-line Python port of TypicalLogitsWarper), then the order
/// <see cref="LogitsProcessor.Process"/> applies them in.
/// </summary>
public class LogitsProcessorTests
{
    /// <summary>Logits whose softmax is exactly <paramref name="probabilities"/> (they must sum to 1).</summary>
    internal static float[] Ln(params double[] probabilities) => probabilities.Select(p => (float)Math.Log(p)).ToArray();

    internal static void AssertLogits(float[] expected, float[] actual, float tolerance = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool ok = float.IsNegativeInfinity(expected[i])
                ? float.IsNegativeInfinity(actual[i])
                : Math.Abs(expected[i] - actual[i]) <= tolerance;
            Assert.True(ok, $"[{i}]: expected {expected[i]}, got {actual[i]} (all: {string.Join(", ", actual)})");
        }
    }

    /// <summary>Which ids are still possible (not -inf).</summary>
    private static int[] Kept(float[] logits) => Enumerable.Range(0, logits.Length).Where(i => !float.IsNegativeInfinity(logits[i])).ToArray();

    [Fact]
    public void Repetition_penalty_divides_positive_multiplies_negative_once_per_distinct_token()
    {
        float[] logits = [2f, -1f, 0.5f, 0f, 3f];
        new LogitsProcessor().ApplyRepetitionPenalty(logits, [0, 1, 0, 3, 0], 2f);
        // 0 appears three times but is divided once; 1 is negative: multiplied; 3 is zero: divided (stays 0).
        AssertLogits([1f, -2f, 0.5f, 0f, 3f], logits);
    }

    [Fact]
    public void Repetition_penalty_below_one_rewards_repetition()
    {
        float[] logits = [2f, -1f, 1f];
        new LogitsProcessor().ApplyRepetitionPenalty(logits, [0, 1], 0.5f);
        AssertLogits([4f, -0.5f, 1f], logits);
    }

    [Fact]
    public void Frequency_and_presence_penalties_follow_openai_on_generated_tokens_only()
    {
        float[] logits = [1f, 1f, 1f, 1f];
        var parameters = new SamplingParameters { FrequencyPenalty = 0.5f, PresencePenalty = 0.25f };
        // prompt [3, 3], generated [0, 0, 2]: token 0 twice, token 2 once; token 3 only in the prompt.
        new LogitsProcessor().Process(logits, [3, 3, 0, 0, 2], promptLength: 2, parameters);
        AssertLogits([1f - (2 * 0.5f + 0.25f), 1f, 1f - (0.5f + 0.25f), 1f], logits);
    }

    [Fact]
    public void Negative_frequency_and_presence_penalties_encourage_repetition()
    {
        float[] logits = [0f, 0f];
        new LogitsProcessor().ApplyFrequencyAndPresencePenalties(logits, [1, 1, 1], -1f, -0.5f);
        AssertLogits([0f, 3.5f], logits);
    }

    [Fact]
    public void Penalty_scratch_is_clean_between_calls()
    {
        var processor = new LogitsProcessor();
        float[] first = [1f, 1f, 1f];
        processor.ApplyFrequencyAndPresencePenalties(first, [0, 0, 1], 1f, 0f);
        processor.ApplyRepetitionPenalty(first, [2, 2], 2f);
        float[] second = [1f, 1f, 1f];
        processor.ApplyFrequencyAndPresencePenalties(second, [2], 1f, 0f); // counts left over would show here
        AssertLogits([1f, 1f, 0f], second);
        float[] third = [4f, 4f, 4f];
        processor.ApplyRepetitionPenalty(third, [0, 2], 2f); // and marks left over here (2 penalized once, not skipped)
        AssertLogits([2f, 4f, 2f], third);
    }

    [Fact]
    public void History_ids_outside_the_row_throw_and_leave_the_scratch_clean()
    {
        var processor = new LogitsProcessor();
        float[] logits = [1f, 1f];
        Assert.Throws<ArgumentOutOfRangeException>(() => processor.ApplyRepetitionPenalty(logits, [0, 5], 2f));
        Assert.Throws<ArgumentOutOfRangeException>(() => processor.ApplyFrequencyAndPresencePenalties(logits, [-1], 1f, 0f));
        AssertLogits([1f, 1f], logits);
        processor.ApplyRepetitionPenalty(logits, [0], 2f);
        AssertLogits([0.5f, 1f], logits);
        Assert.Throws<ArgumentOutOfRangeException>(() => processor.Process(logits, [0], promptLength: 2, SamplingParameters.Greedy));
    }

    [Fact]
    public void Temperature_divides_every_logit()
    {
        float[] logits = [1f, 2f, -3f, float.NegativeInfinity];
        LogitsProcessor.ApplyTemperature(logits, 0.5f);
        AssertLogits([2f, 4f, -6f, float.NegativeInfinity], logits);
        Assert.Throws<ArgumentOutOfRangeException>(() => LogitsProcessor.ApplyTemperature(logits, 0f));
    }

    [Fact]
    public void Top_k_keeps_the_k_highest()
    {
        float[] logits = [1f, 3f, 2f, 4f, 0f];
        new LogitsProcessor().ApplyTopK(logits, 2);
        Assert.Equal([1, 3], Kept(logits));
        AssertLogits([float.NegativeInfinity, 3f, float.NegativeInfinity, 4f, float.NegativeInfinity], logits);
    }

    [Fact]
    public void Top_k_keeps_every_token_tied_with_the_kth_as_transformers_does()
    {
        float[] logits = [5f, 2f, 2f, 0f];
        new LogitsProcessor().ApplyTopK(logits, 2); // scores < kth (2) removed: both 2s stay
        Assert.Equal([0, 1, 2], Kept(logits));
    }

    [Fact]
    public void Top_k_at_or_above_the_candidates_changes_nothing()
    {
        float[] logits = [1f, float.NegativeInfinity, 2f];
        new LogitsProcessor().ApplyTopK(logits, 2);
        Assert.Equal([0, 2], Kept(logits));
        new LogitsProcessor().ApplyTopK(logits, 50);
        Assert.Equal([0, 2], Kept(logits));
    }

    [Fact]
    public void Top_k_selects_correctly_over_a_larger_shuffled_row()
    {
        var rng = new Xoshiro256StarStar(7);
        float[] logits = Enumerable.Range(0, 1000).Select(_ => (float)rng.NextDouble() * 10f).ToArray();
        int[] expected = logits.Select((l, i) => (l, i)).OrderByDescending(t => t.l).Take(37).Select(t => t.i).Order().ToArray();
        new LogitsProcessor().ApplyTopK(logits, 37);
        Assert.Equal(expected, Kept(logits));
    }

    [Theory]
    // probabilities 0.5, 0.25, 0.15, 0.1. Ascending cumulative: 0.1, 0.25, 0.5, 1.0; removed while <= 1 - top_p.
    [InlineData(0.7f, new[] { 0, 1 })]       // 0.1, 0.25 <= 0.3 removed; 0.5 > 0.3 stays: {0.5, 0.25} sums to 0.75 >= 0.7
    [InlineData(0.8f, new[] { 0, 1, 2 })]    // only 0.1 <= 0.2 removed
    [InlineData(0.95f, new[] { 0, 1, 2, 3 })] // 0.1 > 0.05: nothing removed
    [InlineData(0.4f, new[] { 0 })]          // 0.5 <= 0.6 removed too: the top token alone reaches 0.4
    public void Top_p_keeps_the_smallest_set_reaching_p(float topP, int[] expected)
    {
        float[] logits = Ln(0.5, 0.25, 0.15, 0.1);
        new LogitsProcessor().ApplyTopP(logits, topP);
        Assert.Equal(expected, Kept(logits));
    }

    [Fact]
    public void Top_p_always_keeps_at_least_one_token()
    {
        float[] logits = Ln(0.25, 0.25, 0.25, 0.25);
        new LogitsProcessor().ApplyTopP(logits, 1e-6f);
        Assert.Equal([0], Kept(logits)); // the lowest id of the tied most probable

        float[] single = [float.NegativeInfinity, 3f, float.NegativeInfinity];
        new LogitsProcessor().ApplyTopP(single, 0.01f);
        Assert.Equal([1], Kept(single));
    }

    [Fact]
    public void Top_p_breaks_ties_by_id_keeping_the_lower_ids()
    {
        float[] logits = [1f, 1f, 1f, 1f]; // 0.25 each
        new LogitsProcessor().ApplyTopP(logits, 0.3f); // ascending (id 3, 2, 1, 0): 0.25, 0.5 <= 0.7 removed
        Assert.Equal([0, 1], Kept(logits));
        float[] permuted = [1f, 0f, 1f, 1f, 1f]; // same tie among 0, 2, 3, 4 plus a less likely token
        new LogitsProcessor().ApplyTopP(permuted, 0.3f);
        Assert.Equal([0, 2], Kept(permuted));
    }

    [Fact]
    public void Top_p_renormalizes_over_what_is_left()
    {
        // After top_k removed two tokens the remaining {0.4, 0.3} are {4/7, 3/7}; 3/7 <= 0.5 goes.
        float[] logits = Ln(0.4, 0.3, 0.2, 0.1);
        var processor = new LogitsProcessor();
        processor.ApplyTopK(logits, 2);
        processor.ApplyTopP(logits, 0.5f);
        Assert.Equal([0], Kept(logits));
    }

    [Theory]
    [InlineData(0.4f, new[] { 0, 1 })]        // below 0.4 * 0.5 = 0.2: 0.15 and 0.1 go
    [InlineData(0.1f, new[] { 0, 1, 2, 3 })]  // 0.05: nothing goes
    [InlineData(1f, new[] { 0 })]             // only the most probable (and any tied with it) stays
    public void Min_p_removes_tokens_below_a_fraction_of_the_top_probability(float minP, int[] expected)
    {
        float[] logits = Ln(0.5, 0.25, 0.15, 0.1);
        LogitsProcessor.ApplyMinP(logits, minP);
        Assert.Equal(expected, Kept(logits));
    }

    [Theory]
    // Expected from a Python port of TypicalLogitsWarper (same formulas, stable sort by id on ties).
    // [2, 1, 0.5, 0, -1]: p = .563 .2071 .1256 .0762 .028, H = 1.2065; order by |-log p - H|: 1, 0, 2, 3, 4;
    // cumulative .2071 .7701 .8958 .9720 1.
    [InlineData(new[] { 2f, 1f, 0.5f, 0f, -1f }, 0.5f, new[] { 0, 1 })]
    [InlineData(new[] { 2f, 1f, 0.5f, 0f, -1f }, 0.9f, new[] { 0, 1, 2, 3 })]
    // One dominant token: it alone reaches the mass; the five tied ones (same |.|) all go.
    [InlineData(new[] { 4f, 1f, 1f, 1f, 1f, 1f }, 0.5f, new[] { 0 })]
    // Typical decoding may remove the most probable token: p = .5069 .4586 ..., H = .838; id 1 is most typical.
    [InlineData(new[] { 3f, 2.9f, 0f, -1f }, 0.3f, new[] { 1 })]
    public void Typical_p_keeps_the_most_typical_tokens_up_to_the_mass(float[] logits, float mass, int[] expected)
    {
        new LogitsProcessor().ApplyTypicalP(logits, mass);
        Assert.Equal(expected, Kept(logits));
    }

    [Fact]
    public void Typical_p_ignores_tokens_already_filtered()
    {
        float[] logits = [2f, 1f, 0.5f, 0f, -1f, float.NegativeInfinity, float.NegativeInfinity];
        new LogitsProcessor().ApplyTypicalP(logits, 0.5f);
        Assert.Equal([0, 1], Kept(logits));
    }

    [Fact]
    public void Penalties_come_before_temperature()
    {
        // frequency then temperature: (2 - 1) / 0.5 = 2. The other order would give 2 / 0.5 - 1 = 3.
        float[] logits = [2f, 0f];
        var parameters = new SamplingParameters { DoSample = true, Temperature = 0.5f, FrequencyPenalty = 1f };
        new LogitsProcessor().Process(logits, [0], promptLength: 0, parameters);
        AssertLogits([2f, 0f], logits);
    }

    [Fact]
    public void Repetition_penalty_comes_before_frequency_penalty()
    {
        // repetition then frequency: 1 / 2 - 1 = -0.5. The other order: (1 - 1) / 2 = 0.
        float[] logits = [1f, 0f];
        var parameters = new SamplingParameters { RepetitionPenalty = 2f, FrequencyPenalty = 1f };
        new LogitsProcessor().Process(logits, [0], promptLength: 0, parameters);
        AssertLogits([-0.5f, 0f], logits);
    }

    [Fact]
    public void Top_k_comes_before_top_p()
    {
        // transformers' order: top_k 2 leaves {4/7, 3/7}, then top_p 0.5 drops 3/7: only id 0.
        // top_p first would keep {0.4, 0.3} (0.1 + 0.2 <= 0.5; 0.6 > 0.5) and top_k would then keep both.
        float[] logits = Ln(0.4, 0.3, 0.2, 0.1);
        var parameters = new SamplingParameters { DoSample = true, TopK = 2, TopP = 0.5f };
        new LogitsProcessor().Process(logits, [], 0, parameters);
        Assert.Equal([0], Kept(logits));
    }

    [Fact]
    public void Min_p_comes_after_temperature()
    {
        // p1 / p0 = exp(-1.5) = 0.22 < 0.3 at temperature 1, but exp(-0.75) = 0.47 after temperature 2.
        float[] logits = [0f, -1.5f];
        var parameters = new SamplingParameters { DoSample = true, Temperature = 2f, MinP = 0.3f };
        new LogitsProcessor().Process(logits, [], 0, parameters);
        Assert.Equal([0, 1], Kept(logits));
    }

    [Fact]
    public void Typical_p_comes_after_min_p()
    {
        // min_p 0.3 first leaves {2, 1} (exp(-1) = .37 >= .3; exp(-1.5) = .22 < .3). Over those, p = .731 .269,
        // H = .582, |-log p - H| = .269 for id 0 and .731 for id 1: id 0 is more typical and alone reaches 0.5.
        // typical_p first would keep {0, 1} (see the theory above) and min_p would then keep both: {0, 1}.
        float[] logits = [2f, 1f, 0.5f, 0f, -1f];
        var parameters = new SamplingParameters { DoSample = true, MinP = 0.3f, TypicalP = 0.5f };
        new LogitsProcessor().Process(logits, [], 0, parameters);
        Assert.Equal([0], Kept(logits));
    }

    [Fact]
    public void Greedy_runs_the_penalties_but_no_warper()
    {
        float[] logits = [3f, 2.9f, 1f];
        var parameters = new SamplingParameters { DoSample = false, RepetitionPenalty = 1.5f, Temperature = 0.5f, TopK = 1 };
        new LogitsProcessor().Process(logits, [0], 0, parameters);
        AssertLogits([2f, 2.9f, 1f], logits); // penalized, not divided by the temperature, nothing cut by top_k
    }

    [Fact]
    public void Neutral_values_change_nothing()
    {
        float[] logits = [0.3f, -1.2f, 2.5f, 0f];
        float[] before = (float[])logits.Clone();
        var parameters = new SamplingParameters
        {
            DoSample = true, Temperature = 1f, TopK = 0, TopP = 1f, TypicalP = 1f, MinP = 0f,
            RepetitionPenalty = 1f, FrequencyPenalty = 0f, PresencePenalty = 0f,
        };
        new LogitsProcessor().Process(logits, [0, 1, 2], 1, parameters);
        Assert.Equal(before, logits);
    }
}
