using System.Text.Json;
using Vivace.Cpu;
using Vivace.Formats.Safetensors;
using Vivace.Models.Decoders;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Models.Tests;

/// <summary>
/// Greedy generation with the KV cache reproduces transformers' <c>generate()</c> ids (../shared/goldens) for the
/// left-padded batch and for one unpadded prompt; and each cached decode step's logits equal a full no-cache forward
/// over the whole sequence so far (the cache changes cost, never results).
/// </summary>
public class DecoderGenerationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static int MaxNewTokens(string dir)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "goldens.json")));
        return doc.RootElement.GetProperty("max_new_tokens").GetInt32();
    }

    public static TheoryData<string, bool> DecodersBatchedAndSingle()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in DecoderGoldenTests.AllDecoders) { data.Add(name, false); data.Add(name, true); }
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(DecodersBatchedAndSingle))]
    public void GreedyIdsMatchTransformers(string name, bool single)
    {
        string dir = SharedData.Require("goldens", name);
        ICausalLM model = CausalLMLoader.Load(dir, CpuOps.Default);
        using var goldens = SafetensorsFile.Open(Path.Combine(dir, "goldens.safetensors"));
        Tensor ids = goldens.GetRaw(single ? "single_input_ids" : "input_ids");
        int batch = ids.Shape[0], seq = ids.Shape[1];
        long[] mask = single ? Enumerable.Repeat(1L, batch * seq).ToArray() : goldens.GetRaw("attention_mask").Span<long>().ToArray();
        if (!single) Assert.Contains(0L, mask); // the batch really has left padding
        Tensor expected = goldens.GetRaw(single ? "single_generated_ids" : "generated_ids");
        var settings = GenerationSettings.Load(dir, MaxNewTokens(dir));

        (long[] generated, int length) = BatchGenerator.Generate(model, batch, seq, ids.Span<long>(), mask, settings);

        output.WriteLine($"{name} single={single}: {string.Join(",", generated)}");
        Assert.Equal(expected.Shape[1], length);
        Assert.Equal(expected.Span<long>().ToArray(), generated);
    }

    /// <summary>Not for dynamic NTK or longrope: their frequencies follow the sequence length, so keys cached at shorter
    /// lengths were rotated differently than a full recompute rotates them — as in transformers, whose cache does the same.</summary>
    [SkippableTheory]
    [MemberData(nameof(DecoderGoldenTests.Decoders), MemberType = typeof(DecoderGoldenTests))]
    [InlineData("llama-rope-linear")]
    [InlineData("llama-rope-yarn")]
    [InlineData("llama-rope-llama3")]
    public void CachedDecodeStepsMatchFullForward(string name)
    {
        string dir = SharedData.Require("goldens", name);
        ICausalLM model = CausalLMLoader.Load(dir, CpuOps.Default);
        // generate() gives GPT-2 mask-derived positions; its plain forward defaults to 0..seq-1 as transformers' does.
        if (model is Gpt2Model gpt2) gpt2.Positions = Gpt2Model.PositionMode.FromMask;
        using var goldens = SafetensorsFile.Open(Path.Combine(dir, "goldens.safetensors"));
        Tensor ids = goldens.GetRaw("input_ids");
        int batch = ids.Shape[0], seq = ids.Shape[1], vocab = model.VocabSize;
        long[] mask = goldens.GetRaw("attention_mask").Span<long>().ToArray();
        var settings = GenerationSettings.Load(dir, MaxNewTokens(dir));

        // Record every step's cached logits, then recompute each with a no-cache Forward over prompt + tokens so far.
        var steps = new List<float[]>();
        (long[] generated, int length) = BatchGenerator.Generate(model, batch, seq, ids.Span<long>(), mask, settings,
            (_, logits) => steps.Add(logits.AsSpan().ToArray()));
        Assert.Equal(length - seq, steps.Count);

        float worstRatio = 0;
        for (int n = 0; n < steps.Count; n++)
        {
            int len = seq + n;
            var prefixIds = new long[batch * len];
            var prefixMask = new long[batch * len];
            for (int b = 0; b < batch; b++)
            {
                generated.AsSpan(b * length, len).CopyTo(prefixIds.AsSpan(b * len, len));
                mask.AsSpan(b * seq, seq).CopyTo(prefixMask.AsSpan(b * len, seq));
                prefixMask.AsSpan(b * len + seq, n).Fill(1); // generated tokens are always attended to
            }
            ReadOnlySpan<float> full = model.Forward(batch, len, prefixIds, prefixMask).AsSpan();
            for (int b = 0; b < batch; b++)
            {
                ReadOnlySpan<float> expected = full.Slice(((b + 1) * len - 1) * vocab, vocab);
                ReadOnlySpan<float> actual = steps[n].AsSpan(b * vocab, vocab);
                float scale = 0, worst = 0;
                for (int j = 0; j < vocab; j++)
                {
                    scale = MathF.Max(scale, MathF.Abs(expected[j]));
                    worst = MathF.Max(worst, MathF.Abs(expected[j] - actual[j]));
                }
                Assert.True(scale > 0, $"step {n} seq {b}: logits are all zeros");
                worstRatio = MathF.Max(worstRatio, worst / scale);
                Assert.True(worst <= 1e-5f * scale, $"step {n} seq {b}: max abs diff {worst} exceeds 1e-5 × {scale}");
            }
        }
        output.WriteLine($"{name}: {steps.Count} steps, worst diff / max |logit| = {worstRatio}");
    }

    /// <summary>
    /// The goldens never hit eos, so this checks eos handling against the golden ids themselves: with eos set to a token
    /// a sequence emits, that sequence keeps the ids up to and including it, then gets pad_token_id (as transformers pads
    /// finished sequences); the other continues unchanged; once all are finished generation stops early.
    /// </summary>
    [SkippableFact]
    public void EosFinishesSequencesWithPadding()
    {
        string dir = SharedData.Require("goldens", "llama-small");
        LlamaModel model = LlamaModel.Load(dir, CpuOps.Default);
        using var goldens = SafetensorsFile.Open(Path.Combine(dir, "goldens.safetensors"));
        Tensor ids = goldens.GetRaw("input_ids");
        int batch = ids.Shape[0], seq = ids.Shape[1];
        long[] mask = goldens.GetRaw("attention_mask").Span<long>().ToArray();
        long[] golden = goldens.GetRaw("generated_ids").Span<long>().ToArray();
        int total = golden.Length / batch, maxNew = total - seq;
        const long pad = 7;

        // Sequence 0's second new token becomes eos; sequence 1 never emits it (asserted), so it runs to max_new_tokens.
        long eos0 = golden[seq + 1];
        Assert.DoesNotContain(eos0, golden.AsSpan(total + seq, maxNew).ToArray());
        Assert.DoesNotContain(eos0, golden.AsSpan(seq, 1).ToArray());
        (long[] got, int length) = BatchGenerator.Generate(model, batch, seq, ids.Span<long>(), mask,
            new GenerationSettings(maxNew, [eos0], pad));
        Assert.Equal(total, length);
        long[] expected = (long[])golden.Clone();
        expected.AsSpan(seq + 2, maxNew - 2).Fill(pad);
        Assert.Equal(expected, got);

        // Also make sequence 1's first new token an eos: both finish by step 2 and generation stops there.
        long eos1 = golden[total + seq];
        (got, length) = BatchGenerator.Generate(model, batch, seq, ids.Span<long>(), mask,
            new GenerationSettings(maxNew, [eos0, eos1], pad));
        Assert.Equal(seq + 2, length);
        Assert.Equal(golden.AsSpan(0, seq + 2).ToArray(), got.AsSpan(0, length).ToArray());
        Assert.Equal(golden.AsSpan(total, seq + 1).ToArray(), got.AsSpan(length, seq + 1).ToArray());
        Assert.Equal(pad, got[length + seq + 1]);
    }

    [Fact]
    public void ArgMaxTakesLowestIdOnTies()
    {
        Assert.Equal(1, BatchGenerator.ArgMax([0f, 3f, 1f, 3f]));
        Assert.Equal(0, BatchGenerator.ArgMax([2f, 2f]));
    }
}
