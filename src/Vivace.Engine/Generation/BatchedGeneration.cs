using Vivace.Models.Decoders;

namespace Vivace.Engine.Generation;

/// <summary>
/// transformers' <c>generate()</c> on a left-padded batch of token ids, greedy or sampled: the <see cref="BatchGenerator"/>
/// loop with a <see cref="TokenSampler"/> per sequence. Returns prompt (padding kept) + new tokens, finished sequences
/// padded with pad_token_id.
/// </summary>
public static class BatchedGeneration
{
    public static (long[] Ids, int Length) Generate(ICausalLM model, int batch, int seq, long[] inputIds, long[] attentionMask,
        GenerationSettings settings, SamplingParameters sampling)
    {
        sampling.Validate();
        if (sampling.IsGreedy && sampling.RepetitionPenalty is null or 1f && sampling.FrequencyPenalty is null or 0f
            && sampling.PresencePenalty is null or 0f)
            return BatchGenerator.Generate(model, batch, seq, inputIds, attentionMask, settings);

        // Each row samples from its own generator; with a seed, row b uses seed + b so rows differ but repeat exactly.
        var samplers = new TokenSampler[batch];
        for (int b = 0; b < batch; b++)
            samplers[b] = new TokenSampler(sampling.Seed is ulong s ? sampling with { Seed = s + (ulong)b } : sampling);
        // Penalties see the whole row so far, padding included, as transformers' processors see input_ids.
        int total = seq + settings.MaxNewTokens;
        var history = new int[batch * total];
        for (int i = 0; i < batch; i++)
            for (int t = 0; t < seq; t++) history[i * total + t] = checked((int)inputIds[i * seq + t]);
        return BatchGenerator.Generate(model, batch, seq, inputIds, attentionMask, settings, choose: (row, step, logits) =>
        {
            int length = seq + step;
            int id = samplers[row].Next(logits, history.AsSpan(row * total, length), seq);
            history[row * total + length] = id;
            return id;
        });
    }
}
