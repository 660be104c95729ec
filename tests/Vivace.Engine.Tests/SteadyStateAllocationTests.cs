using Vivace.Cpu;
using Vivace.Models;

namespace Vivace.Engine.Tests;

/// <summary>
/// A forward pass in steady state allocates nothing but its result: the sentence vectors. Activation buffers (the
/// hidden state, fused QKV, attention context, FFN intermediate) are reused pass after pass. One thread, so every
/// byte the pass allocates is counted on the calling thread.
/// </summary>
public class SteadyStateAllocationTests
{
    [Theory]
    [InlineData(1, 16)]
    [InlineData(8, 128)]
    [InlineData(3, 77)]
    public void AnEmbeddingPassAllocatesOnlyItsVectors(int batch, int seq)
    {
        using var ops = new CpuOps(1);
        var embedder = SentenceEmbedder.Load("sentence-transformers/all-MiniLM-L6-v2", ops);
        int[][] ids = Enumerable.Range(0, batch).Select(b => Enumerable.Range(0, seq).Select(i => 1000 + (i * 7 + b * 13) % 20000).ToArray()).ToArray();
        var input = EncoderBatch.FromSequences(ids);
        for (int i = 0; i < 3; i++) embedder.Model.Encode(input); // first passes size the buffers

        // The runtime may allocate once in a while on this thread (tiering a method up): the fewest bytes of three
        // windows is the steady state.
        const int Passes = 4;
        long perPass = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Passes; i++) embedder.Model.Encode(input);
            perPass = Math.Min(perPass, (GC.GetAllocatedBytesForCurrentThread() - before) / Passes);
        }

        // The result: one float[384] per sequence and the jagged array holding them, with object headers.
        long vectors = batch * (384 * 4 + 32) + 32 + batch * 8;
        long hiddenState = (long)batch * seq * 384 * 4;
        Assert.True(perPass <= vectors + 1024,
            $"{batch}×{seq}: {perPass} bytes a pass, the vectors take {vectors} (the hidden state alone would be {hiddenState})");
    }

    [Fact]
    public void AShorterBatchAfterALongerOneReusesTheBuffers()
    {
        using var ops = new CpuOps(1);
        var embedder = SentenceEmbedder.Load("sentence-transformers/all-MiniLM-L6-v2", ops);
        var large = EncoderBatch.FromSequences([Enumerable.Range(1000, 200).ToArray(), Enumerable.Range(2000, 150).ToArray()]);
        var small = EncoderBatch.FromSequences([Enumerable.Range(3000, 40).ToArray()]);
        float[][] expected = embedder.Model.Encode(small);
        embedder.Model.Encode(large);
        embedder.Model.Encode(small);
        long before = GC.GetAllocatedBytesForCurrentThread();
        float[][] again = embedder.Model.Encode(small);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(expected[0], again[0]); // the same numbers out of reused (larger, previously used) buffers
        Assert.True(allocated < 8 * 1024, $"{allocated} bytes for a 40-token pass after a 350-token one");
    }
}
