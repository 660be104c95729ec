using System.Text.Json;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>The generation settings greedy decoding needs, as HF's <c>generation_config.json</c> gives them.</summary>
public sealed record GenerationSettings(int MaxNewTokens, IReadOnlyList<long> EosTokenIds, long? PadTokenId)
{
    /// <summary>
    /// Reads <c>eos_token_id</c> (an int or a list) and <c>pad_token_id</c> from <c>generation_config.json</c> in
    /// <paramref name="directory"/>, if present. transformers falls back to the first eos id as pad when pad is unset.
    /// </summary>
    public static GenerationSettings Load(string directory, int maxNewTokens)
    {
        string path = Path.Combine(directory, "generation_config.json");
        var eos = new List<long>();
        long? pad = null;
        if (File.Exists(path))
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = doc.RootElement;
            if (root.TryGetProperty("eos_token_id", out JsonElement e))
            {
                if (e.ValueKind == JsonValueKind.Number) eos.Add(e.GetInt64());
                else if (e.ValueKind == JsonValueKind.Array) foreach (JsonElement x in e.EnumerateArray()) eos.Add(x.GetInt64());
            }
            if (root.TryGetProperty("pad_token_id", out JsonElement p) && p.ValueKind == JsonValueKind.Number) pad = p.GetInt64();
        }
        if (pad is null && eos.Count > 0) pad = eos[0];
        return new GenerationSettings(maxNewTokens, eos, pad);
    }
}

/// <summary>
/// Greedy decoding with a KV cache, as transformers' <c>generate(do_sample=False)</c>: one prefill over the (left-padded)
/// prompt, then one single-token decode step per new token. Picks argmax (lowest id on ties, as torch.argmax). A
/// sequence that emits an eos id is finished: from then on it receives <c>pad_token_id</c> (still fed through the model,
/// with mask 1, exactly as transformers does, so the other sequences' numerics are unaffected). Generation stops once
/// every sequence is finished or after <c>max_new_tokens</c>.
/// </summary>
public static class GreedyGenerator
{
    /// <summary>
    /// Returns <c>[batch, seq + generated]</c> row-major ids (prompt and its padding kept), where generated ≤ max_new_tokens
    /// (shorter only when all sequences hit eos). When <paramref name="onStep"/> is given it sees each step's last-position
    /// logits <c>[batch, vocab]</c> (step 0 is the prefill), for tests.
    /// </summary>
    public static (long[] Ids, int Length) Generate(ICausalLM model, int batch, int seq, ReadOnlySpan<long> inputIds,
        ReadOnlySpan<long> attentionMask, GenerationSettings settings, Action<int, Tensor>? onStep = null)
    {
        int maxNew = settings.MaxNewTokens, total = seq + maxNew;
        var ids = new long[batch * total];
        for (int b = 0; b < batch; b++) inputIds.Slice(b * seq, seq).CopyTo(ids.AsSpan(b * total, seq));
        if (maxNew <= 0) return (Compact(ids, batch, total, seq), seq);

        var cache = model.CreateCache(batch, total);
        var finished = new bool[batch];
        var step = new long[batch];
        var ones = new long[batch];
        Array.Fill(ones, 1L); // new tokens are always attended to (transformers extends the mask with ones)
        Tensor logits = model.ForwardCached(batch, seq, inputIds, attentionMask, cache);
        int length = seq;
        for (int n = 0; n < maxNew; n++)
        {
            onStep?.Invoke(n, logits);
            bool allDone = true;
            for (int b = 0; b < batch; b++)
            {
                long next = ArgMax(logits.AsSpan().Slice(b * model.VocabSize, model.VocabSize));
                if (finished[b]) next = settings.PadTokenId ?? throw new InvalidOperationException("a sequence finished but no pad_token_id is set");
                else if (settings.EosTokenIds.Contains(next)) finished[b] = true;
                ids[b * total + length] = next;
                step[b] = next;
                allDone &= finished[b];
            }
            length++;
            // The last token (or a batch that is all finished) needs no further forward pass.
            if (allDone || n == maxNew - 1) break;
            logits = model.ForwardCached(batch, 1, step, ones, cache);
        }
        return (Compact(ids, batch, total, length), length);
    }

    /// <summary>Index of the largest value; the first (lowest id) on ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    /// <summary>Drops unused columns when generation stopped early: <c>[batch, total]</c> → <c>[batch, length]</c>.</summary>
    private static long[] Compact(long[] ids, int batch, int total, int length)
    {
        if (length == total) return ids;
        var result = new long[batch * length];
        for (int b = 0; b < batch; b++) ids.AsSpan(b * total, length).CopyTo(result.AsSpan(b * length, length));
        return result;
    }
}
