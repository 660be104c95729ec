using Vivace.Cpu;
using Vivace.Models.Decoders;
using Vivace.Tests;

namespace Vivace.Models.Tests;

/// <summary>
/// A decode step in steady state allocates its logits and a few small fixed objects (the step's ids, mask and position
/// bookkeeping), never an activation buffer: those are reused step after step. One thread, so every byte the step
/// allocates is counted on the calling thread.
/// </summary>
public class DecoderSteadyStateAllocationTests
{
    [SkippableTheory]
    [InlineData("llama-small")]
    [InlineData("llama-wide")]
    [InlineData("gemma-small")]
    [InlineData("phi3-small")]
    public void ADecodeStepAllocatesOnlyItsLogits(string name)
    {
        using var ops = new CpuOps(1);
        MeasureDecodeStep(name, (LlamaModel)CausalLMLoader.Load(SharedData.Require("goldens", name), ops));
    }

    [SkippableTheory]
    [InlineData("gpt2-small")]
    [InlineData("gpt2-wide")]
    public void AGpt2DecodeStepAllocatesOnlyItsLogits(string name)
    {
        using var ops = new CpuOps(1);
        MeasureDecodeStep(name, (Gpt2Model)CausalLMLoader.Load(SharedData.Require("goldens", name), ops));
    }

    private static void MeasureDecodeStep(string name, ICausalLM model)
    {
        const int Warmup = 4, Steps = 4, Windows = 3;
        KvCache cache = model.CreateCache(1, 8 + Warmup + Steps * Windows);
        long[] prompt = [5, 17, 42, 7, 99, 3, 11, 64];
        model.ForwardCached(1, prompt.Length, prompt, [1, 1, 1, 1, 1, 1, 1, 1], cache);
        long[] id = [1], mask = [1];
        for (int i = 0; i < Warmup; i++) model.ForwardCached(1, 1, id, mask, cache);

        // The runtime may allocate once in a while on this thread (tiering a method up): the fewest bytes of three
        // windows is the steady state.
        long perStep = long.MaxValue;
        for (int window = 0; window < Windows; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Steps; i++) model.ForwardCached(1, 1, id, mask, cache);
            perStep = Math.Min(perStep, (GC.GetAllocatedBytesForCurrentThread() - before) / Steps);
        }

        // The logits (a float[vocab] and its tensor), plus the step's copies of ids and mask, its stacked-parts record
        // (ids, positions, rows) and the part itself: well under a kilobyte beyond the logits.
        long logits = model.VocabSize * 4L + 32;
        Console.WriteLine($"{name}: {perStep} bytes a decode step (logits {logits})");
        Assert.True(perStep <= logits + 1536, $"{name}: {perStep} bytes a decode step, the logits take {logits}");
    }

    [SkippableTheory]
    [InlineData("llama-small")]
    [InlineData("gpt2-small")]
    public void ConcurrentPassesOfOneModelDoNotShareBuffers(string name)
    {
        ICausalLM model = CausalLMLoader.Load(SharedData.Require("goldens", name), CpuOps.Default);
        long[][] prompts = [[5, 17, 42, 7, 99, 3, 11, 64], [8, 1, 300, 12], [77, 78, 79, 80, 81, 82], [2, 900, 4]];
        const int Steps = 12;
        float[][] Generate(long[] prompt)
        {
            KvCache cache = model.CreateCache(1, prompt.Length + Steps);
            var logits = new List<float[]> { model.ForwardCached(1, prompt.Length, prompt, Enumerable.Repeat(1L, prompt.Length).ToArray(), cache).AsSpan().ToArray() };
            for (int s = 1; s < Steps; s++)
                logits.Add(model.ForwardCached(1, 1, [BatchGenerator.ArgMax(logits[^1])], [1], cache).AsSpan().ToArray());
            return logits.ToArray();
        }
        float[][][] alone = prompts.Select(Generate).ToArray();
        for (int round = 0; round < 5; round++)
        {
            var together = new float[prompts.Length][][];
            Parallel.For(0, prompts.Length, new ParallelOptions { MaxDegreeOfParallelism = prompts.Length }, i => together[i] = Generate(prompts[i]));
            for (int i = 0; i < prompts.Length; i++)
                for (int s = 0; s < Steps; s++) Assert.Equal(alone[i][s], together[i][s]);
        }
    }
}
