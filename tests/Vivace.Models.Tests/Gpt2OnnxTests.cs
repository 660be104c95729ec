using System.Text.Json;
using Vivace.Cpu;
using Vivace.Models.Decoders;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Models.Tests;

/// <summary>
/// onnxruntime-genai's tiny GPT-2 export (past_fp32.onnx, ORT-fused, deduplicated initializers) loaded into
/// <see cref="Gpt2Model"/> reproduces the logits and greedy sequences of genai's C API tests
/// (../shared/data/ort-genai/tiny-random-gpt2/expected_outputs.json): batch 2 × 4 tokens, token 0 is not padding
/// (all-ones mask, positions 0..3).
/// </summary>
public class Gpt2OnnxTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static (Gpt2Model Model, JsonElement Expected) Load()
    {
        string dir = SharedData.Require("data", "ort-genai", "tiny-random-gpt2");
        Gpt2Model model = OnnxGpt2Loader.Load(Path.Combine(dir, "past_fp32.onnx"), CpuOps.Default);
        JsonElement expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected_outputs.json"))).RootElement;
        return (model, expected);
    }

    private static long[] PromptIds(JsonElement expected) =>
        expected.GetProperty("greedy_search").GetProperty("input_ids").EnumerateArray()
            .SelectMany(row => row.EnumerateArray().Select(x => x.GetInt64())).ToArray();

    /// <summary>Every <c>sample_stride</c>-th value of <paramref name="flat"/> equals the expected one within the tolerance given.</summary>
    private void AssertSampled(JsonElement section, ReadOnlySpan<float> flat)
    {
        int stride = section.GetProperty("sample_stride").GetInt32();
        float tolerance = section.GetProperty("tolerance").GetSingle();
        float[] expected = section.GetProperty("expected_sampled").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        Assert.Equal(expected.Length * stride, flat.Length);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = MathF.Abs(flat[i * stride] - expected[i]);
            worst = MathF.Max(worst, diff);
            Assert.True(diff <= tolerance, $"sample {i} (index {i * stride}): {flat[i * stride]} vs {expected[i]}");
        }
        output.WriteLine($"max |diff| {worst:g3} over {expected.Length} samples");
    }

    /// <summary>The last position's logits of each row of <c>[batch, seq, vocab]</c>, as <c>[batch, vocab]</c> flattened.</summary>
    private static float[] LastPosition(Tensor logits)
    {
        int batch = logits.Shape[0], seq = logits.Shape[1], vocab = logits.Shape[2];
        var last = new float[batch * vocab];
        for (int b = 0; b < batch; b++)
            logits.AsSpan().Slice((b * seq + seq - 1) * vocab, vocab).CopyTo(last.AsSpan(b * vocab));
        return last;
    }

    [SkippableFact]
    public void PromptLogitsMatchGenai()
    {
        var (model, expected) = Load();
        long[] ids = PromptIds(expected);
        Tensor logits = model.Forward(2, 4, ids, Enumerable.Repeat(1L, ids.Length).ToArray());

        Assert.Equal(new Shape(2, 4, 1000), logits.Shape);
        AssertSampled(expected.GetProperty("prompt_logits_full_sequence"), logits.AsSpan());
        AssertSampled(expected.GetProperty("prompt_last_token_logits"), LastPosition(logits));
    }

    /// <summary>
    /// Greedy search to max_length 10 with the KV cache (<see cref="BatchGenerator"/>; genai's eos and pad are 98). The
    /// logits of the first decode step are genai's first_generated_step_logits; the full-forward argmax path gives the
    /// same sequences (the cache changes cost, never results).
    /// </summary>
    [SkippableFact]
    public void GreedySequencesMatchGenai()
    {
        var (model, expected) = Load();
        JsonElement greedy = expected.GetProperty("greedy_search");
        int batch = 2, seq = 4, maxLength = greedy.GetProperty("max_length").GetInt32();
        long[] prompt = PromptIds(expected);
        long[] ones = Enumerable.Repeat(1L, prompt.Length).ToArray();
        long[] want = greedy.GetProperty("expected_sequences").EnumerateArray()
            .SelectMany(r => r.EnumerateArray().Select(x => x.GetInt64())).ToArray();

        float[]? firstStep = null;
        (long[] cached, int length) = BatchGenerator.Generate(model, batch, seq, prompt, ones,
            new GenerationSettings(maxLength - seq, [98], 98), onStep: (n, logits) => { if (n == 1) firstStep = logits.AsSpan().ToArray(); });
        output.WriteLine(string.Join(",", cached));
        Assert.Equal(maxLength, length);
        Assert.Equal(want, cached);
        Assert.NotNull(firstStep);
        AssertSampled(expected.GetProperty("first_generated_step_logits"), firstStep);

        // The same by repeated full forward passes, argmax of the last position.
        var rows = Enumerable.Range(0, batch).Select(b => prompt.Skip(b * seq).Take(seq).ToList()).ToArray();
        while (rows[0].Count < maxLength)
        {
            long[] ids = rows.SelectMany(r => r).ToArray();
            float[] last = LastPosition(model.Forward(batch, rows[0].Count, ids, Enumerable.Repeat(1L, ids.Length).ToArray()));
            for (int b = 0; b < batch; b++) rows[b].Add(BatchGenerator.ArgMax(last.AsSpan(b * 1000, 1000)));
        }
        Assert.Equal(want, rows.SelectMany(r => r).ToArray());
    }
}
