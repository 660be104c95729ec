using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Vivace.Engine.Generation;

/// <summary>A token and its log-probability under the distribution it was chosen from.</summary>
public readonly record struct TokenLogprob(int Id, float Logprob);

/// <summary>
/// Chooses each next token of one sequence: runs the <see cref="LogitsProcessor"/> steps its
/// <see cref="SamplingParameters"/> enable, then takes the argmax (greedy) or draws from the softmax of the
/// processed logits with its own seeded generator. One instance per sequence: the generator's state is the
/// sequence's, so the same seed and the same logits give the same tokens, whatever else runs beside it.
/// After warm-up (scratch grown to the vocabulary) choosing a token allocates nothing.
/// </summary>
public sealed class TokenSampler
{
    private readonly LogitsProcessor _processor = new();
    private Xoshiro256StarStar _rng;
    private double[] _weights = [];

    /// <summary>Validates <paramref name="parameters"/> (see <see cref="SamplingParameters.Validate"/>) and seeds the generator.</summary>
    public TokenSampler(SamplingParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate();
        Parameters = parameters;
        Seed = parameters.Seed ?? RandomSeed();
        _rng = new Xoshiro256StarStar(Seed);
    }

    public SamplingParameters Parameters { get; }

    /// <summary>The seed in use: the one asked for, or the random one drawn for a request without one (TGI reports it in the details).</summary>
    public ulong Seed { get; }

    /// <summary>
    /// Chooses the next token. <paramref name="logits"/> is the model's row for the last position (one entry per
    /// vocabulary id); it is processed in place and left as the scores the choice was made from (filtered
    /// tokens at -infinity). <paramref name="history"/> is the sequence so far, prompt first, of which the first
    /// <paramref name="promptLength"/> tokens are the prompt: the repetition penalty counts all of it, the
    /// frequency and presence penalties only what follows the prompt (0: all of it).
    /// Greedy: the first maximum (lowest id on ties, like torch.argmax). Sampling: inverse CDF over the softmax.
    /// </summary>
    public int Next(Span<float> logits, ReadOnlySpan<int> history, int promptLength = 0)
    {
        if (logits.IsEmpty)
            throw new ArgumentException("the logits row is empty", nameof(logits));
        _processor.Process(logits, history, promptLength, Parameters);
        return Parameters.IsGreedy ? ArgMax(logits) : Sample(logits);
    }

    /// <summary>
    /// <see cref="Next(Span{float}, ReadOnlySpan{int}, int)"/> plus what TGI puts in a token's details: the chosen
    /// token's log-probability and the most likely alternatives, both under the distribution the token was chosen
    /// from, i.e. log_softmax of the processed logits (TGI's <c>next_token_logprob</c> and
    /// <c>batch_top_tokens</c> take them from the warped scores; filtered tokens have no probability and are never
    /// listed). <paramref name="topTokens"/> receives up to its length alternatives, most likely first, ties by
    /// lower id; <paramref name="topCount"/> says how many were written.
    /// </summary>
    public TokenLogprob Next(Span<float> logits, ReadOnlySpan<int> history, int promptLength, Span<TokenLogprob> topTokens, out int topCount)
    {
        int id = Next(logits, history, promptLength);
        double logZ = LogSumExp(logits);
        topCount = TopTokens(logits, logZ, topTokens);
        return new TokenLogprob(id, (float)(logits[id] - logZ));
    }

    /// <summary>The index of the first maximum (so the lowest id among ties, as torch.argmax); 0 if every entry is -inf.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best])
                best = i;
        return best;
    }

    /// <summary>log(sum(exp(logits))), shifted by the maximum so that it neither overflows nor underflows.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits)
    {
        float max = LogitsProcessor.Max(logits);
        if (float.IsNegativeInfinity(max))
            return double.NegativeInfinity;
        double sum = 0;
        foreach (float l in logits)
            sum += Math.Exp(l - max);
        return max + Math.Log(sum);
    }

    /// <summary>
    /// The destination.Length most likely tokens of <c>log_softmax(logits)</c> (<paramref name="logZ"/> is
    /// <see cref="LogSumExp"/> of them), most likely first, ties by lower id, -inf entries skipped. Returns how many
    /// were written (fewer when fewer tokens are left).
    /// </summary>
    public static int TopTokens(ReadOnlySpan<float> logits, double logZ, Span<TokenLogprob> destination)
    {
        if (destination.IsEmpty)
            return 0;
        // Insertion into a short sorted list (top_n_tokens <= 20): one pass over the vocabulary, no allocation.
        // The raw logit is kept while selecting and turned into a log-probability at the end.
        int count = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float l = logits[i];
            if (float.IsNegativeInfinity(l))
                continue;
            if (count == destination.Length && !(l > destination[count - 1].Logprob))
                continue; // not better than the worst kept; equal loses, since its id is higher
            int pos = count < destination.Length ? count++ : count - 1;
            while (pos > 0 && destination[pos - 1].Logprob < l)
            {
                destination[pos] = destination[pos - 1];
                pos--;
            }
            destination[pos] = new TokenLogprob(i, l);
        }
        for (int j = 0; j < count; j++)
            destination[j] = new TokenLogprob(destination[j].Id, (float)(destination[j].Logprob - logZ));
        return count;
    }

    /// <summary>Inverse CDF: one uniform draw u in [0, total), the first token whose cumulative weight passes u.</summary>
    private int Sample(ReadOnlySpan<float> logits)
    {
        float max = LogitsProcessor.Max(logits);
        if (!float.IsFinite(max))
            throw new InvalidOperationException("no token can be sampled: every logit is -infinity, or one is +infinity");
        if (_weights.Length < logits.Length)
            _weights = new double[logits.Length];
        Span<double> weights = _weights.AsSpan(0, logits.Length);
        // Unnormalized softmax: dividing u by the total instead of every weight saves a pass, same distribution.
        double total = 0;
        for (int i = 0; i < logits.Length; i++)
            total += weights[i] = Math.Exp(logits[i] - max);
        if (double.IsNaN(total))
            throw new InvalidOperationException("no token can be sampled: the logits row holds NaN");

        double u = _rng.NextDouble() * total;
        double cumulative = 0;
        int lastPossible = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            double w = weights[i];
            if (w == 0)
                continue; // filtered (-inf) or underflowed: never chosen
            cumulative += w;
            lastPossible = i;
            if (u < cumulative)
                return i;
        }
        return lastPossible; // u rounded up to the total: the last token that has any probability
    }

    private static ulong RandomSeed()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }
}
