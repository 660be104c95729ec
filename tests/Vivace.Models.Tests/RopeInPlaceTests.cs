using Vivace.Formats;
using Vivace.Models.Decoders;
using Vivace.Tensors;

namespace Vivace.Models.Tests;

/// <summary>
/// RoPE inside the fused <c>[q | k | v]</c> rows: the vectorized in-place rotation of q and k equals, bit for bit, the
/// scalar reference rotating copies of them (what the decoder did before), for every scaling variant, head sizes with
/// and without a vector tail, partial rotary dims; v is left alone.
/// </summary>
public class RopeInPlaceTests
{
    public static TheoryData<string, int> Cases()
    {
        string[] variants =
        [
            """{"rope_parameters": {"rope_type": "default"}, "max_position_embeddings": 64}""",
            """{"rope_parameters": {"rope_type": "linear", "factor": 2.0, "partial_rotary_factor": 0.5}, "max_position_embeddings": 64}""",
            """{"rope_parameters": {"rope_type": "dynamic", "factor": 4.0}, "max_position_embeddings": 8}""",
            """{"rope_parameters": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16}, "max_position_embeddings": 64}""",
            """{"rope_parameters": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16}, "max_position_embeddings": 64}""",
        ];
        var data = new TheoryData<string, int>();
        foreach (string v in variants)
            foreach (int headDim in new[] { 8, 16, 40, 64, 128, 6 })
                data.Add(v, headDim);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InPlaceRotationEqualsTheScalarRotationOfCopies(string json, int headDim)
    {
        RopeScaling scaling = RopeScaling.FromHf(HfConfig.Parse(json, "test/config.json"));
        if ((int)(headDim * scaling.PartialRotaryFactor) % 2 != 0) return; // no valid rotary dim at this size
        var rope = new Rope(headDim, 10000f, scaling, scaling.MaxPositionEmbeddings);
        const int Heads = 4, KvHeads = 2;
        int qOut = Heads * headDim, kvOut = KvHeads * headDim, width = qOut + 2 * kvOut;
        int[] positions = [0, 1, 2, 7, 3, 9, 15, 30, 5];
        var rng = new Random(headDim);
        float[] qkv = Enumerable.Range(0, positions.Length * width).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();

        // Reference: q and k copied out and rotated by the scalar form.
        Tensor q = Columns(qkv, width, 0, qOut, positions.Length), k = Columns(qkv, width, qOut, kvOut, positions.Length);
        rope.Apply(q.AsSpan(), qOut, qOut, positions, vectorized: false);
        rope.Apply(k.AsSpan(), kvOut, kvOut, positions, vectorized: false);

        float[] fused = (float[])qkv.Clone();
        rope.Apply(fused, width, qOut + kvOut, positions);
        Tensor fusedT = Tensor.FromArray(fused, positions.Length, width);
        Assert.Equal(q.AsSpan().ToArray(), Columns(fused, width, 0, qOut, positions.Length).AsSpan().ToArray());
        Assert.Equal(k.AsSpan().ToArray(), Columns(fused, width, qOut, kvOut, positions.Length).AsSpan().ToArray());
        Assert.Equal(Columns(qkv, width, qOut + kvOut, kvOut, positions.Length).AsSpan().ToArray(),
            Columns(fusedT.AsSpan().ToArray(), width, qOut + kvOut, kvOut, positions.Length).AsSpan().ToArray());

        // The tensor overload is the same rotation.
        Tensor copy = Columns(qkv, width, 0, qOut, positions.Length);
        rope.Apply(copy, positions);
        Assert.Equal(q.AsSpan().ToArray(), copy.AsSpan().ToArray());
    }

    [Fact]
    public void RowsThatDoNotFitAreRejected()
    {
        var rope = new Rope(8, 10000f);
        rope.Apply(new float[40], 24, 16, [0, 1]); // two rows need 24 + 16 floats
        Assert.Throws<ArgumentException>(() => rope.Apply(new float[39], 24, 16, [0, 1]));
        Assert.Throws<ArgumentException>(() => rope.Apply(new float[48], 24, 12, [0, 1]));   // not whole heads
    }

    private static Tensor Columns(float[] rows, int stride, int offset, int width, int count)
    {
        Tensor t = Tensor.Zeros(count, width);
        for (int r = 0; r < count; r++) rows.AsSpan(r * stride + offset, width).CopyTo(t.AsSpan().Slice(r * width, width));
        return t;
    }
}
