using Vivace.Cpu;
using Vivace.Formats.Safetensors;
using Vivace.Models.Decoders;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Models.Tests;

/// <summary>
/// Continuous batching's model side: sequences of different lengths, one joining while another decodes, each in its
/// own cache, go through <see cref="ICausalLM.ForwardParts"/> together — and every sequence's logits equal, bit for bit,
/// those of the same sequence run alone. (Rows of a Linear do not depend on each other; attention is per cache.)
/// </summary>
public class CachePartsTests
{
    [SkippableTheory]
    [InlineData("llama-small")]
    [InlineData("mistral-small")]
    [InlineData("gpt2-small")]
    [InlineData("gemma-small")]
    public void SequencesTogetherEqualSequencesAlone(string name)
    {
        string dir = SharedData.Require("goldens", name);
        ICausalLM model = CausalLMLoader.Load(dir, CpuOps.Default);
        using var goldens = SafetensorsFile.Open(Path.Combine(dir, "goldens.safetensors"));
        long[] all = goldens.GetRaw("input_ids").Span<long>().ToArray();
        int seq = goldens.GetRaw("input_ids").Shape[1];
        long[] promptA = all[seq..], promptB = all[^5..]; // 11 and 5 tokens (row 1 is unpadded)
        const int Steps = 10, Joins = 3;                   // B's prefill runs beside A's 3rd decode step

        // Alone: greedy from each prompt, recording the logits of every step.
        List<float[]> Alone(long[] prompt)
        {
            var cache = model.CreateCache(1, prompt.Length + Steps);
            var logits = new List<float[]> { model.ForwardParts([CachePart.Unpadded(cache, prompt)]).AsSpan().ToArray() };
            for (int s = 1; s < Steps; s++)
                logits.Add(model.ForwardParts([CachePart.Unpadded(cache, [BatchGenerator.ArgMax(logits[^1])])]).AsSpan().ToArray());
            return logits;
        }
        List<float[]> aloneA = Alone(promptA), aloneB = Alone(promptB);

        // Together: A decodes; at step Joins, B's whole prompt enters the same pass; then both decode side by side.
        var cacheA = model.CreateCache(1, promptA.Length + Steps);
        var cacheB = model.CreateCache(1, promptB.Length + Steps);
        var togetherA = new List<float[]> { model.ForwardParts([CachePart.Unpadded(cacheA, promptA)]).AsSpan().ToArray() };
        var togetherB = new List<float[]>();
        int vocab = model.VocabSize;
        for (int s = 1; s < Steps; s++)
        {
            var parts = new List<CachePart> { CachePart.Unpadded(cacheA, [BatchGenerator.ArgMax(togetherA[^1])]) };
            if (s == Joins) parts.Add(CachePart.Unpadded(cacheB, promptB));
            else if (s > Joins) parts.Add(CachePart.Unpadded(cacheB, [BatchGenerator.ArgMax(togetherB[^1])]));
            float[] logits = model.ForwardParts(parts).AsSpan().ToArray();
            Assert.Equal(parts.Count * vocab, logits.Length);
            togetherA.Add(logits[..vocab]);
            if (s >= Joins) togetherB.Add(logits[vocab..]);
        }

        for (int s = 0; s < Steps; s++) Assert.True(aloneA[s].SequenceEqual(togetherA[s]), $"sequence A step {s} differs");
        for (int s = 0; s < togetherB.Count; s++) Assert.True(aloneB[s].SequenceEqual(togetherB[s]), $"sequence B step {s} differs");
    }

    [SkippableFact]
    public void BadPartsAreRefusedBeforeTheCacheChanges()
    {
        ICausalLM model = CausalLMLoader.Load(SharedData.Require("goldens", "llama-small"), CpuOps.Default);
        var cache = model.CreateCache(1, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ForwardParts([CachePart.Unpadded(cache, [1, 5000])]));
        Assert.Throws<ArgumentException>(() => model.ForwardParts([]));
        Assert.Throws<InvalidOperationException>(() => model.ForwardParts([CachePart.Unpadded(cache, [1, 2, 3, 4, 5])]));
        Assert.Equal(0, cache.Length);
        Assert.Equal(1, model.ForwardParts([CachePart.Unpadded(cache, [1, 2])]).Shape[0]);
        Assert.Equal(2, cache.Length);
    }
}
