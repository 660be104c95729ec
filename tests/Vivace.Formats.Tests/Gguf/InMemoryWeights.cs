using Vivace.Formats.Gguf;
using Vivace.Tensors;

namespace Vivace.Formats.Tests.Gguf;

/// <summary>An <see cref="IWeightSource"/> over a dictionary of f32 tensors, for export tests.</summary>
public sealed class InMemoryWeights(Dictionary<string, Tensor> tensors) : IWeightSource
{
    public IReadOnlyDictionary<string, Tensor> Tensors => tensors;
    public IReadOnlyCollection<string> Names => tensors.Keys;
    public bool Contains(string name) => tensors.ContainsKey(name);
    public Tensor Get(string name) => tensors.TryGetValue(name, out var t) ? t : throw new ModelFormatException("memory", name, "missing");
    public WeightInfo GetInfo(string name) => new(name, "F32", DType.F32, Get(name).Shape);
    public string Describe() => $"in-memory ({tensors.Count} tensors)";
    public void Dispose() { }

    /// <summary>A random HF-named Llama with the given shape (values of varied magnitude, so quantization is not trivial).</summary>
    public static InMemoryWeights RandomLlama(LlamaGgufConfig c, int seed = 1)
    {
        var rng = new Random(seed);
        Tensor R(params int[] dims)
        {
            var data = new float[dims.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < data.Length; i++) data[i] = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-3, 1)));
            return Tensor.FromArray(data, dims);
        }
        var t = new Dictionary<string, Tensor> { ["model.embed_tokens.weight"] = R(c.Vocab, c.Hidden), ["model.norm.weight"] = R(c.Hidden) };
        if (!c.Tied) t["lm_head.weight"] = R(c.Vocab, c.Hidden);
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            t[p + "input_layernorm.weight"] = R(c.Hidden);
            t[p + "post_attention_layernorm.weight"] = R(c.Hidden);
            t[p + "self_attn.q_proj.weight"] = R(c.Heads * c.HeadDim, c.Hidden);
            t[p + "self_attn.k_proj.weight"] = R(c.KvHeads * c.HeadDim, c.Hidden);
            t[p + "self_attn.v_proj.weight"] = R(c.KvHeads * c.HeadDim, c.Hidden);
            t[p + "self_attn.o_proj.weight"] = R(c.Hidden, c.Heads * c.HeadDim);
            t[p + "mlp.gate_proj.weight"] = R(c.Intermediate, c.Hidden);
            t[p + "mlp.up_proj.weight"] = R(c.Intermediate, c.Hidden);
            t[p + "mlp.down_proj.weight"] = R(c.Hidden, c.Intermediate);
        }
        return new InMemoryWeights(t);
    }
}
