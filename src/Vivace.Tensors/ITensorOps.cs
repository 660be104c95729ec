namespace Vivace.Tensors;

/// <summary>Element-wise activations a kernel may apply (in place or fused after a linear layer).</summary>
public enum Activation
{
    None,
    /// <summary>GELU with the exact erf form, as HF "gelu".</summary>
    Gelu,
    /// <summary>GELU with the tanh approximation, as HF "gelu_new" / "gelu_pytorch_tanh".</summary>
    GeluTanh,
    Relu,
    Tanh,
    /// <summary>SiLU (swish), <c>x / (1 + e^−x)</c>, as HF "silu": the gate of Llama-family MLPs.</summary>
    Silu,
}

/// <summary>A linear layer's weight prepared once (packed for the backend) for repeated <c>y = x·Wᵀ + b</c>.</summary>
public interface ILinearWeight
{
    int InFeatures { get; }
    int OutFeatures { get; }
    string? Name { get; }
}

/// <summary>
/// The operations models are written against. A backend (CPU, CUDA) implements them; a model never knows
/// which. Activations are rank-2 <c>[tokens, features]</c> f32 tensors of a ragged batch: sequences
/// concatenated along the token axis, so padding costs no compute.
/// </summary>
public interface ITensorOps
{
    /// <summary>Prepares <paramref name="weight"/> (<c>[out, in]</c>, the HF Linear layout) and optional bias <c>[out]</c>.</summary>
    ILinearWeight PrepareLinear(Tensor weight, Tensor? bias);

    /// <summary>
    /// Prepares a block-quantized weight (<c>[out, in]</c> rows of <see cref="BlockFormat"/> blocks, as GGUF stores them)
    /// and optional f32 bias <c>[out]</c>. <see cref="Linear"/> then computes with the blocks as they are.
    /// </summary>
    ILinearWeight PrepareLinear(QuantizedMatrix weight, Tensor? bias);

    /// <summary><c>output[rows, out] = activation(input[rows, in] · Wᵀ + b)</c>.</summary>
    void Linear(Tensor input, ILinearWeight weight, Tensor output, Activation activation = Activation.None);

    /// <summary>
    /// <c>output = LayerNorm(input + residual) · gamma + beta</c> over the last axis (residual optional).
    /// <paramref name="output"/> may be the same tensor as <paramref name="input"/> or <paramref name="residual"/>.
    /// <paramref name="sum"/>, when given, also receives <c>input + residual</c> (a pre-LN decoder's residual stream, as
    /// <see cref="RmsNorm"/>'s): it may be <paramref name="input"/> or <paramref name="residual"/> but must not overlap
    /// <paramref name="output"/>.
    /// </summary>
    void LayerNorm(Tensor input, Tensor? residual, Tensor gamma, Tensor beta, float epsilon, Tensor output, Tensor? sum = null);

    /// <summary>
    /// <c>output = RMSNorm(input + residual) · weight</c> over the last axis (residual optional), as transformers'
    /// LlamaRMSNorm in f32: <c>y = w · (x · 1/sqrt(mean(x²) + eps))</c>. <paramref name="output"/> may be the same tensor
    /// as <paramref name="input"/> or <paramref name="residual"/>. <paramref name="sum"/>, when given, also receives
    /// <c>input + residual</c> (a pre-norm decoder's residual stream: pass <paramref name="input"/> itself for
    /// <c>input += residual</c> in the same pass); it may be <paramref name="input"/> or <paramref name="residual"/> but
    /// must not overlap <paramref name="output"/>.
    /// </summary>
    void RmsNorm(Tensor input, Tensor? residual, Tensor weight, float epsilon, Tensor output, Tensor? sum = null);

    /// <summary>
    /// A gated MLP's middle step: <c>output[r, i] = activation(gateUp[r, i]) · gateUp[r, inner + i]</c>, from the fused
    /// <c>[rows, 2·inner]</c> gate|up projection into <c>[rows, inner]</c> (SwiGLU with <see cref="Activation.Silu"/>,
    /// GeGLU with <see cref="Activation.GeluTanh"/> or <see cref="Activation.Gelu"/>). The two must not overlap.
    /// </summary>
    void GatedActivation(Tensor gateUp, Tensor output, Activation activation);

    /// <summary>Applies an activation in place.</summary>
    void Activate(Tensor x, Activation activation);

    /// <summary><c>x += addend</c>, element-wise, same shape.</summary>
    void Add(Tensor x, Tensor addend);

    /// <summary>
    /// Embedding lookup: row i of <paramref name="output"/> becomes (or, with <paramref name="accumulate"/>, gains)
    /// row <c>ids[i]</c> of <paramref name="table"/> <c>[vocab, dim]</c>. An id outside the table throws.
    /// </summary>
    void Gather(Tensor table, ReadOnlySpan<int> ids, Tensor output, bool accumulate = false);

    /// <summary>
    /// Causal attention of a decoder's new queries over its KV cache: <paramref name="query"/> rows
    /// <c>[batch·count, heads·headDim]</c> (<paramref name="queryStride"/> floats apart, so they may sit in a fused QKV
    /// row), <paramref name="keys"/>/<paramref name="values"/> <c>[batch, capacity, kvHeads·headDim]</c>,
    /// <paramref name="mask"/> <c>[batch, capacity]</c>. The query in slot s sees slots j ≤ s whose mask is set (and with
    /// a sliding window w, s − j &lt; w); one that sees nothing gets zeros. <paramref name="output"/>:
    /// <c>[batch·count, heads·headDim]</c>. Each query's result depends only on its own sequence.
    /// </summary>
    void CachedAttention(ReadOnlySpan<float> query, int queryStride, ReadOnlySpan<float> keys, ReadOnlySpan<float> values,
        ReadOnlySpan<long> mask, Span<float> output, CachedAttentionShape shape);

    /// <summary>
    /// Scaled dot-product attention over a ragged batch, each sequence attending only to itself.
    /// <paramref name="query"/>, <paramref name="key"/>, <paramref name="value"/> and <paramref name="output"/> are
    /// <c>[tokens, heads·headDim]</c> with head h in columns <c>[h·headDim, (h+1)·headDim)</c>.
    /// <paramref name="bias"/>, when given, holds one additive score bias <c>[heads, L, L]</c> per sequence
    /// (L its length), added after scaling and before softmax.
    /// </summary>
    void Attention(Tensor query, Tensor key, Tensor value, Tensor output, RaggedBatch batch, int heads, float scale,
        IReadOnlyList<Tensor>? bias = null);

    /// <summary>
    /// <see cref="Attention"/> with query, key and value packed side by side in one <c>[tokens, 3·H]</c> matrix
    /// (columns <c>[0, H)</c>, <c>[H, 2H)</c>, <c>[2H, 3H)</c>), as one fused QKV linear layer produces them.
    /// <paramref name="output"/> is <c>[tokens, H]</c>.
    /// </summary>
    void FusedAttention(Tensor queryKeyValue, Tensor output, RaggedBatch batch, int heads, float scale, IReadOnlyList<Tensor>? bias = null);
}

/// <summary>
/// The shape of a <see cref="ITensorOps.CachedAttention"/> call: <see cref="Count"/> new queries per sequence (cache
/// slots Start..Start+Count−1) of <see cref="Batch"/> sequences, over a cache of <see cref="Capacity"/> slots each;
/// grouped-query heads (<see cref="Heads"/> a multiple of <see cref="KeyValueHeads"/>); an optional sliding window in
/// slots (0: none).
/// </summary>
public readonly record struct CachedAttentionShape(int Batch, int Count, int Start, int Capacity, int Heads, int KeyValueHeads,
    int HeadDim, float Scale, int SlidingWindow = 0);
