namespace Vivace.Engine.Generation;

/// <summary>
/// Turns one row of next-token logits into the scores the choice is made from, in place, in the order
/// Hugging Face transformers' <c>generate</c> builds its list (<c>_get_logits_processor</c>):
/// <list type="number">
/// <item>repetition penalty, over the whole history (prompt + generated);</item>
/// <item>frequency and presence penalties, over the generated tokens (OpenAI's definition);</item>
/// <item>only when sampling: temperature, top_k, top_p, min_p, typical_p.</item>
/// </list>
/// Penalties apply to greedy decoding too (transformers' processors do; its warpers only run with do_sample).
/// A filtered token's logit becomes -infinity. Each step is public so that it can be tested alone.
/// </summary>
/// <remarks>
/// One instance per sequence being generated (or per thread): it owns scratch buffers sized to the vocabulary,
/// grown on first use and then reused, so processing a token allocates nothing.
/// </remarks>
public sealed partial class LogitsProcessor
{
    // Scratch, grown to the vocabulary size on first use. _counts is all zero between calls: every step that
    // marks entries clears exactly the entries it marked (O(history), not O(vocab)).
    private int[] _counts = [];
    private ulong[] _keys = [];
    private float[] _values = [];

    /// <summary>
    /// Applies every step <paramref name="parameters"/> enables. <paramref name="history"/> is the sequence so
    /// far, prompt first; its first <paramref name="promptLength"/> tokens are the prompt (0: count all of it as
    /// generated). Sampling steps run only when <paramref name="parameters"/> is not greedy.
    /// </summary>
    public void Process(Span<float> logits, ReadOnlySpan<int> history, int promptLength, SamplingParameters parameters)
    {
        if ((uint)promptLength > (uint)history.Length)
            throw new ArgumentOutOfRangeException(nameof(promptLength), promptLength, $"must be in [0, {history.Length}] (the history's length)");
        if (parameters.RepetitionPenalty is float r && r != 1f)
            ApplyRepetitionPenalty(logits, history, r);
        float frequency = parameters.FrequencyPenalty ?? 0f, presence = parameters.PresencePenalty ?? 0f;
        if (frequency != 0f || presence != 0f)
            ApplyFrequencyAndPresencePenalties(logits, history[promptLength..], frequency, presence);
        if (parameters.IsGreedy)
            return;
        // The conditions under which transformers adds each warper (a neutral value adds none).
        if (parameters.Temperature != 1f)
            ApplyTemperature(logits, parameters.Temperature);
        if (parameters.TopK is int k && k != 0)
            ApplyTopK(logits, k);
        if (parameters.TopP is float p && p < 1f)
            ApplyTopP(logits, p);
        if (parameters.MinP is float m && m != 0f)
            ApplyMinP(logits, m);
        if (parameters.TypicalP is float t && t < 1f)
            ApplyTypicalP(logits, t);
    }

    /// <summary>
    /// transformers' RepetitionPenaltyLogitsProcessor (CTRL, Keskar et al. 2019): for each distinct token of
    /// <paramref name="history"/>, a negative logit is multiplied by <paramref name="penalty"/> and any other
    /// (zero included) divided by it; a token seen twice is still penalized once (gather/scatter there).
    /// </summary>
    public void ApplyRepetitionPenalty(Span<float> logits, ReadOnlySpan<int> history, float penalty)
    {
        CheckIds(history, logits.Length); // before marking anything, so a throw leaves the scratch clear
        int[] seen = Counts(logits.Length);
        foreach (int id in history)
        {
            if (seen[id] != 0)
                continue;
            seen[id] = 1;
            float score = logits[id];
            logits[id] = score < 0 ? score * penalty : score / penalty;
        }
        foreach (int id in history)
            seen[id] = 0;
    }

    /// <summary>
    /// OpenAI's frequency and presence penalties
    /// (<c>logit[j] -= count[j] * frequency + (count[j] &gt; 0) * presence</c>), counting the tokens of
    /// <paramref name="generated"/>. Callers pass the generated tokens only, as OpenAI and vLLM count them.
    /// (TGI differs: it has no presence penalty and subtracts count / sequence length * frequency over
    /// prompt + generated; we follow the definition that the OpenAI-compatible parameter names promise.)
    /// </summary>
    public void ApplyFrequencyAndPresencePenalties(Span<float> logits, ReadOnlySpan<int> generated, float frequency, float presence)
    {
        CheckIds(generated, logits.Length);
        int[] counts = Counts(logits.Length);
        foreach (int id in generated)
            counts[id]++;
        // Second pass: apply once per distinct token, clearing its count as we go (so later repeats see 0).
        foreach (int id in generated)
        {
            int count = counts[id];
            if (count == 0)
                continue;
            counts[id] = 0;
            logits[id] -= count * frequency + presence;
        }
    }

    private int[] Counts(int vocab)
    {
        if (_counts.Length < vocab)
            _counts = new int[vocab];
        return _counts;
    }

    private Span<ulong> Keys(int vocab)
    {
        if (_keys.Length < vocab)
            _keys = new ulong[vocab];
        return _keys.AsSpan(0, vocab);
    }

    private Span<float> Values(int vocab)
    {
        if (_values.Length < vocab)
            _values = new float[vocab];
        return _values.AsSpan(0, vocab);
    }

    private static void CheckIds(ReadOnlySpan<int> ids, int vocab)
    {
        foreach (int id in ids)
            if ((uint)id >= (uint)vocab)
                throw new ArgumentOutOfRangeException("history", id, $"token id outside the logits row of {vocab} entries");
    }
}
