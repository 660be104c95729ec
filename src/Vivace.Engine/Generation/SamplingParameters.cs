namespace Vivace.Engine.Generation;

/// <summary>
/// How the next token of one sequence is chosen: the union of what Hugging Face transformers'
/// <c>generate</c>, TGI (<c>/generate</c> parameters) and OpenAI (<c>/v1/completions</c>) accept.
/// A null (or neutral) value disables that step. <see cref="LogitsProcessor"/> applies the steps in
/// transformers' order; <see cref="TokenSampler"/> chooses from the result.
/// </summary>
/// <remarks>
/// The dialects differ on when sampling happens; this record does not guess. TGI's router samples when
/// <c>do_sample</c> is set <i>or</i> any warper is (temperature != 1, top_k != 0, top_p &lt; 1, typical_p &lt; 1);
/// OpenAI always samples unless temperature is 0. The server maps each dialect onto <see cref="DoSample"/>.
/// </remarks>
public sealed record SamplingParameters
{
    /// <summary>The most alternatives <see cref="TopNTokens"/> may ask for (OpenAI's top_logprobs allows 20).</summary>
    public const int MaxTopNTokens = 20;

    /// <summary>Sample from the processed distribution; false: greedy (argmax, lowest id on ties).</summary>
    public bool DoSample { get; init; }

    /// <summary>
    /// Logits are divided by this before the filters (transformers' TemperatureLogitsWarper). Range [0, +inf);
    /// 1 leaves them as they are; 0 means greedy, as TGI's OpenAI routes and OpenAI itself treat it.
    /// </summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>
    /// Keep only the k highest logits (and any tied with the k-th, as transformers' TopKLogitsWarper does).
    /// Range [0, +inf); null or 0 disables it (TGI's convention).
    /// </summary>
    public int? TopK { get; init; }

    /// <summary>
    /// Nucleus sampling: keep the smallest set of most probable tokens whose probabilities add up to at
    /// least this (transformers' TopPLogitsWarper). Range (0, 1]; null or 1 disables it.
    /// </summary>
    public float? TopP { get; init; }

    /// <summary>
    /// Typical decoding (Meister et al. 2022; transformers' TypicalLogitsWarper): keep the tokens whose
    /// information content is closest to the entropy, up to this probability mass. Range (0, 1]; null or 1 disables it.
    /// </summary>
    public float? TypicalP { get; init; }

    /// <summary>
    /// Drop tokens less probable than this times the most probable one (transformers' MinPLogitsWarper).
    /// Range [0, 1]; null or 0 disables it.
    /// </summary>
    public float? MinP { get; init; }

    /// <summary>
    /// CTRL's repetition penalty over every token of the history, prompt included (transformers'
    /// RepetitionPenaltyLogitsProcessor): a positive logit is divided by it, a negative one multiplied, each
    /// distinct token once. Range (0, +inf); null or 1 disables it; below 1 rewards repetition.
    /// </summary>
    public float? RepetitionPenalty { get; init; }

    /// <summary>
    /// OpenAI's frequency penalty: <c>logit -= count * frequency_penalty</c>, where count is how many times the
    /// token was generated so far (the prompt does not count). Range [-2, 2]; null or 0 disables it.
    /// </summary>
    public float? FrequencyPenalty { get; init; }

    /// <summary>
    /// OpenAI's presence penalty: <c>logit -= presence_penalty</c> once for every token generated at least once
    /// (the prompt does not count). Range [-2, 2]; null or 0 disables it.
    /// </summary>
    public float? PresencePenalty { get; init; }

    /// <summary>The sampler's seed: the same seed gives the same choices. Null: a random one (reported by <see cref="TokenSampler.Seed"/>).</summary>
    public ulong? Seed { get; init; }

    /// <summary>How many most likely alternatives to report per token in the details (TGI's top_n_tokens). Range [0, 20]; 0: none.</summary>
    public int TopNTokens { get; init; }

    /// <summary>Greedy decoding: sampling is off, or the temperature is 0.</summary>
    public bool IsGreedy => !DoSample || Temperature == 0f;

    /// <summary>Plain greedy decoding with no penalties.</summary>
    public static SamplingParameters Greedy { get; } = new();

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first parameter out of its range (by its wire name,
    /// so a server can hand the message to the client as a 422) and the range it must be in.
    /// NaN is out of every range.
    /// </summary>
    public void Validate()
    {
        // Comparisons are written as !(in range) so that NaN fails them.
        if (!(Temperature >= 0f) || float.IsPositiveInfinity(Temperature))
            throw Out("temperature", Temperature, "must be a finite number >= 0 (0 means greedy)");
        if (TopK is int k && k < 0)
            throw Out("top_k", k, "must be >= 0 (0 disables it)");
        if (TopP is float p && !(p > 0f && p <= 1f))
            throw Out("top_p", p, "must be in (0, 1] (1 disables it)");
        if (TypicalP is float t && !(t > 0f && t <= 1f))
            throw Out("typical_p", t, "must be in (0, 1] (1 disables it)");
        if (MinP is float m && !(m >= 0f && m <= 1f))
            throw Out("min_p", m, "must be in [0, 1] (0 disables it)");
        if (RepetitionPenalty is float r && !(r > 0f && !float.IsPositiveInfinity(r)))
            throw Out("repetition_penalty", r, "must be a finite number > 0 (1 disables it)");
        if (FrequencyPenalty is float f && !(f >= -2f && f <= 2f))
            throw Out("frequency_penalty", f, "must be in [-2, 2] (0 disables it)");
        if (PresencePenalty is float pp && !(pp >= -2f && pp <= 2f))
            throw Out("presence_penalty", pp, "must be in [-2, 2] (0 disables it)");
        if (TopNTokens < 0 || TopNTokens > MaxTopNTokens)
            throw Out("top_n_tokens", TopNTokens, $"must be in [0, {MaxTopNTokens}] (0 reports none)");
    }

    private static ArgumentException Out(string name, object value, string rule) =>
        new(FormattableString.Invariant($"{name} {rule}, got {value}."), name);
}
