namespace Vivace.Engine.Generation;

// The sampling warpers, each a port of the transformers class named in its comment. Where transformers sorts
// with torch.sort (not stable), we sort by (value, then token id) so that ties are decided the same way on
// every run: among equal logits the lower id ranks as more probable and is the one kept.
// Probabilities are summed in double; torch sums in float32, so only a cut that lands within float rounding of
// a threshold can differ.
public sealed partial class LogitsProcessor
{
    /// <summary>transformers' TemperatureLogitsWarper: every logit divided by <paramref name="temperature"/> (&gt; 0).</summary>
    public static void ApplyTemperature(Span<float> logits, float temperature)
    {
        if (!(temperature > 0f))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "must be > 0 (0 is greedy, handled by the sampler)");
        // A division, not a multiplication by 1/t, so the results equal transformers' bit for bit.
        for (int i = 0; i < logits.Length; i++)
            logits[i] /= temperature;
    }

    /// <summary>
    /// transformers' TopKLogitsWarper: removes every logit below the k-th highest. Tokens tied with the k-th
    /// stay, so more than k may remain (there: <c>scores &lt; topk(scores, k)[-1]</c>).
    /// </summary>
    public void ApplyTopK(Span<float> logits, int k)
    {
        if (k < 1)
            throw new ArgumentOutOfRangeException(nameof(k), k, "must be >= 1 (0, disabled, is skipped by Process)");
        Span<ulong> keys = Keys(logits.Length);
        int n = CollectDescending(logits, keys);
        if (k >= n)
            return; // fewer candidates than k: nothing to remove (already -inf ones stay so)
        keys = keys[..n];
        SelectSmallest(keys, k - 1); // keys are (value descending, id): the k-1-th smallest key is the k-th highest logit
        float kth = logits[IdOf(keys[k - 1])];
        for (int i = 0; i < logits.Length; i++)
            if (logits[i] < kth)
                logits[i] = float.NegativeInfinity;
    }

    /// <summary>
    /// transformers' TopPLogitsWarper: keeps the smallest set of most probable tokens whose probabilities add up
    /// to at least <paramref name="topP"/>. As there: tokens sorted ascending, those whose cumulative probability
    /// is &lt;= 1 - top_p removed, the most probable one always kept (min_tokens_to_keep = 1).
    /// </summary>
    public void ApplyTopP(Span<float> logits, float topP)
    {
        Span<ulong> keys = Keys(logits.Length);
        int n = CollectDescending(logits, keys);
        if (n <= 1)
            return;
        keys = keys[..n];
        keys.Sort(); // most probable first, ties by lower id first
        float max = logits[IdOf(keys[0])];
        double sum = 0;
        for (int r = 0; r < n; r++)
            sum += Math.Exp(logits[IdOf(keys[r])] - max);
        double removable = 1.0 - topP;
        double cumulative = 0;
        // Walk from the least probable up (transformers' ascending order): cumulative only grows, so the first
        // token that must stay means every more probable one stays too. Rank 0 is never removed.
        for (int r = n - 1; r >= 1; r--)
        {
            int id = IdOf(keys[r]);
            cumulative += Math.Exp(logits[id] - max) / sum;
            if (cumulative > removable)
                break;
            logits[id] = float.NegativeInfinity;
        }
    }

    /// <summary>
    /// transformers' MinPLogitsWarper: removes tokens whose probability is below <paramref name="minP"/> times the
    /// probability of the most probable token (there: <c>probs &lt; min_p * probs.max()</c>). The most probable
    /// token always stays.
    /// </summary>
    public static void ApplyMinP(Span<float> logits, float minP)
    {
        float max = Max(logits);
        if (float.IsNegativeInfinity(max))
            return;
        // p_i / p_max = exp(l_i - l_max): the softmax's normalizer cancels, so no sum is needed.
        for (int i = 0; i < logits.Length; i++)
            if (Math.Exp(logits[i] - max) < minP)
                logits[i] = float.NegativeInfinity;
    }

    /// <summary>
    /// transformers' TypicalLogitsWarper (locally typical sampling, Meister et al. 2022): ranks tokens by
    /// |-log p - H| (H the entropy), keeps the first of that order until their probability reaches
    /// <paramref name="mass"/> (the token at which the cumulative first is &gt;= mass included, and any tied with
    /// it), the best ranked always kept. May remove the most probable token.
    /// </summary>
    public void ApplyTypicalP(Span<float> logits, float mass)
    {
        float max = Max(logits);
        if (float.IsNegativeInfinity(max))
            return;
        double sum = 0;
        foreach (float l in logits)
            sum += Math.Exp(l - max);
        double logZ = max + Math.Log(sum);
        double entropy = 0;
        foreach (float l in logits)
        {
            if (float.IsNegativeInfinity(l))
                continue; // p log p -> 0 (transformers' nansum skips the NaN of 0 * -inf)
            double logp = l - logZ;
            entropy -= Math.Exp(logp) * logp;
        }

        Span<float> shifted = Values(logits.Length);
        Span<ulong> keys = Keys(logits.Length);
        int n = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (float.IsNegativeInfinity(logits[i]))
                continue; // shifted = +inf there: last in the order, probability 0, already removed
            shifted[i] = (float)Math.Abs(-(logits[i] - logZ) - entropy);
            keys[n++] = AscendingKey(shifted[i], i);
        }
        keys = keys[..n];
        keys.Sort();

        // last = how many sorted tokens have cumulative probability < mass (the index of the first reaching it).
        double cumulative = 0;
        int last = 0;
        while (last < n)
        {
            cumulative += Math.Exp(logits[IdOf(keys[last])] - logZ);
            if (cumulative >= mass)
                break;
            last++;
        }
        if (last > n - 1)
            last = n - 1;
        float threshold = shifted[IdOf(keys[last])];
        for (int r = 1; r < n; r++) // r = 0, the most typical, always stays
        {
            int id = IdOf(keys[r]);
            if (shifted[id] > threshold)
                logits[id] = float.NegativeInfinity;
        }
    }

    internal static float Max(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits)
            if (l > max)
                max = l;
        return max;
    }

    /// <summary>Fills keys with the logits that are not -inf, as (value descending, id ascending) keys; returns how many.</summary>
    private static int CollectDescending(ReadOnlySpan<float> logits, Span<ulong> keys)
    {
        int n = 0;
        for (int i = 0; i < logits.Length; i++)
            if (!float.IsNegativeInfinity(logits[i]))
                keys[n++] = ((ulong)~Ascending(logits[i]) << 32) | (uint)i;
        return n;
    }

    private static ulong AscendingKey(float value, int id) => ((ulong)Ascending(value) << 32) | (uint)id;

    private static int IdOf(ulong key) => (int)(uint)key;

    /// <summary>Maps a float to a uint with the same order (-0 and +0 made equal, so that their tie goes by id).</summary>
    private static uint Ascending(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value + 0f); // -0 + 0 = +0
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    /// <summary>Quickselect (Hoare partition, median of three): afterwards keys[k] is the k-th smallest. O(n) on average.</summary>
    private static void SelectSmallest(Span<ulong> keys, int k)
    {
        int lo = 0, hi = keys.Length - 1;
        while (hi > lo)
        {
            int mid = lo + (hi - lo) / 2;
            if (keys[mid] < keys[lo]) (keys[mid], keys[lo]) = (keys[lo], keys[mid]);
            if (keys[hi] < keys[lo]) (keys[hi], keys[lo]) = (keys[lo], keys[hi]);
            if (keys[hi] < keys[mid]) (keys[hi], keys[mid]) = (keys[mid], keys[hi]);
            ulong pivot = keys[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] < pivot) i++;
                while (keys[j] > pivot) j--;
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    i++;
                    j--;
                }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return; // j < k < i: keys[k] equals the pivot and sits in its final place
        }
    }
}
