using System.Text.Json;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>The generation settings batched decoding needs, as HF's <c>generation_config.json</c> gives them.</summary>
public sealed record GenerationSettings(int MaxNewTokens, IReadOnlyList<long> EosTokenIds, long? PadTokenId)
{
    /// <summary>
    /// Reads <c>eos_token_id</c> (an int or a list) and <c>pad_token_id</c> from <c>generation_config.json</c> in
    /// <paramref name="directory"/>, each falling back to <c>config.json</c> as transformers does. transformers also
    /// falls back to the first eos id as pad when pad is unset.
    /// </summary>
    public static GenerationSettings Load(string directory, int maxNewTokens)
    {
        JsonElement?[] sources = [Read(Path.Combine(directory, "generation_config.json")), Read(Path.Combine(directory, "config.json"))];
        IReadOnlyList<long> eos = sources.Select(s => Ids(s, "eos_token_id")).FirstOrDefault(ids => ids != null) ?? [];
        long? pad = sources.Select(s => Ids(s, "pad_token_id")).FirstOrDefault(ids => ids is { Count: > 0 })?[0];
        if (pad is null && eos.Count > 0) pad = eos[0];
        return new GenerationSettings(maxNewTokens, eos, pad);
    }

    private static JsonElement? Read(string path) =>
        File.Exists(path) ? JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone() : null;

    /// <summary>An id field that may be a number or a list of numbers; null when absent or null.</summary>
    public static IReadOnlyList<long>? Ids(JsonElement? root, string field)
    {
        if (root is not { ValueKind: JsonValueKind.Object } r || !r.TryGetProperty(field, out JsonElement e)) return null;
        return e.ValueKind switch
        {
            JsonValueKind.Number => [e.GetInt64()],
            JsonValueKind.Array => e.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetInt64()).ToArray(),
            _ => null,
        };
    }
}

/// <summary>Picks sequence <paramref name="row"/>'s next token from its logits (which it may modify) at new-token <paramref name="step"/>.</summary>
public delegate long TokenChooser(int row, int step, Span<float> logits);

/// <summary>
/// Batched generation with a KV cache, as transformers' <c>generate()</c>: one prefill over the (left-padded) prompt, then
/// one single-token decode step per new token. Greedy by default: argmax (lowest id on ties, as torch.argmax), as
/// <c>generate(do_sample=False)</c>; a <see cref="TokenChooser"/> can sample instead. A
/// sequence that emits an eos id is finished: from then on it receives <c>pad_token_id</c> (still fed through the model,
/// with mask 1, exactly as transformers does, so the other sequences' numerics are unaffected). Generation stops once
/// every sequence is finished or after <c>max_new_tokens</c>.
/// </summary>
public static class BatchGenerator
{
    /// <summary>
    /// Returns <c>[batch, seq + generated]</c> row-major ids (prompt and its padding kept), where generated ≤ max_new_tokens
    /// (shorter only when all sequences hit eos). When <paramref name="onStep"/> is given it sees each step's last-position
    /// logits <c>[batch, vocab]</c> (step 0 is the prefill), for tests.
    /// </summary>
    public static (long[] Ids, int Length) Generate(ICausalLM model, int batch, int seq, ReadOnlySpan<long> inputIds,
        ReadOnlySpan<long> attentionMask, GenerationSettings settings, Action<int, Tensor>? onStep = null,
        TokenChooser? choose = null)
    {
        int maxNew = settings.MaxNewTokens, total = seq + maxNew;
        var ids = new long[batch * total];
        for (int b = 0; b < batch; b++) inputIds.Slice(b * seq, seq).CopyTo(ids.AsSpan(b * total, seq));
        if (maxNew <= 0) return (Compact(ids, batch, total, seq), seq);

        var session = new DecodeSession(model, batch, total);
        var finished = new bool[batch];
        var step = new long[batch];
        Tensor logits = session.Prefill(seq, inputIds, attentionMask);
        int length = seq;
        for (int n = 0; n < maxNew; n++)
        {
            onStep?.Invoke(n, logits);
            bool allDone = true;
            for (int b = 0; b < batch; b++)
            {
                Span<float> row = logits.AsSpan().Slice(b * model.VocabSize, model.VocabSize);
                long next = choose is null ? ArgMax(row) : choose(b, n, row);
                if (finished[b]) next = settings.PadTokenId ?? throw new InvalidOperationException("a sequence finished but no pad_token_id is set");
                else if (settings.EosTokenIds.Contains(next)) finished[b] = true;
                ids[b * total + length] = next;
                step[b] = next;
                allDone &= finished[b];
            }
            length++;
            // The last token (or a batch that is all finished) needs no further forward pass.
            if (allDone || n == maxNew - 1) break;
            logits = session.Step(step);
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
