using Vivace.Formats;
using Vivace.Tensors;

namespace Vivace.Bench;

/// <summary>
/// A checkpoint's weights under their HF names, made on request from a seeded generator (uniform, scaled like an
/// initialized model so activations stay finite; vectors — norms, biases — are ones): a benchmark needs the shapes and
/// the bytes, not a trained model. Subclasses fill <see cref="Shapes"/>.
/// </summary>
internal abstract class RandomWeights(ulong seed, string description) : IWeightSource
{
    protected Dictionary<string, int[]> Shapes { get; } = new(StringComparer.Ordinal);

    public long Parameters => Shapes.Values.Sum(s => s.Aggregate(1L, (a, d) => a * d));
    public IReadOnlyCollection<string> Names => Shapes.Keys;
    public bool Contains(string name) => Shapes.ContainsKey(name);
    public WeightInfo GetInfo(string name) => new(name, "F32", DType.F32, new Shape(Shapes[name]));
    public string Describe() => description;
    public void Dispose() { }

    public Tensor Get(string name)
    {
        int[] shape = Shapes[name];
        long count = shape.Aggregate(1L, (a, d) => a * d);
        var data = new float[count];
        if (shape.Length == 1) { Array.Fill(data, 1f); return Tensor.FromArray(data, shape); }
        // SplitMix64 seeded by the name: every weight differs, and runs repeat exactly.
        ulong state = seed;
        foreach (char ch in name) state = (state ^ ch) * 0x100000001B3UL; // FNV-1a: string.GetHashCode differs per process
        float scale = 2f / MathF.Sqrt(shape[^1]);
        for (long i = 0; i < count; i++)
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            data[i] = ((z >> 40) / (float)(1 << 24) - 0.5f) * scale;
        }
        return Tensor.FromArray(data, shape).WithName(name);
    }
}

/// <summary>A BERT checkpoint's weights (embeddings, layers, no pooler) under their HF names, random.</summary>
internal sealed class RandomBertWeights : RandomWeights
{
    public RandomBertWeights(int layers, int hidden, int intermediate, int vocab, int positions, ulong seed) : base(seed, "random BERT weights")
    {
        Shapes["embeddings.word_embeddings.weight"] = [vocab, hidden];
        Shapes["embeddings.position_embeddings.weight"] = [positions, hidden];
        Shapes["embeddings.token_type_embeddings.weight"] = [2, hidden];
        Shapes["embeddings.LayerNorm.weight"] = [hidden];
        Shapes["embeddings.LayerNorm.bias"] = [hidden];
        for (int l = 0; l < layers; l++)
        {
            string p = $"encoder.layer.{l}.";
            foreach (string name in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                Shapes[p + name + ".weight"] = [hidden, hidden];
                Shapes[p + name + ".bias"] = [hidden];
            }
            Shapes[p + "intermediate.dense.weight"] = [intermediate, hidden];
            Shapes[p + "intermediate.dense.bias"] = [intermediate];
            Shapes[p + "output.dense.weight"] = [hidden, intermediate];
            Shapes[p + "output.dense.bias"] = [hidden];
            foreach (string norm in new[] { "attention.output.LayerNorm", "output.LayerNorm" })
            {
                Shapes[p + norm + ".weight"] = [hidden];
                Shapes[p + norm + ".bias"] = [hidden];
            }
        }
    }
}
