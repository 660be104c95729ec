using Vivace.Formats;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>The fields of an HF GPT-2 <c>config.json</c> a forward pass needs.</summary>
public sealed record Gpt2Config
{
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int InnerSize { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int MaxPositions { get; init; }
    public required float LayerNormEps { get; init; }
    public required Activation Activation { get; init; }
    public bool ScaleAttnWeights { get; init; } = true;
    public bool ScaleAttnByInverseLayerIdx { get; init; }
    public int HeadDim => HiddenSize / Heads;

    public static Gpt2Config FromHf(HfConfig c)
    {
        int hidden = c.GetIntAny("n_embd", "hidden_size");
        int heads = c.GetIntAny("n_head", "num_attention_heads");
        if (hidden % heads != 0)
            throw new ModelFormatException(c.Source, "n_head", $"{heads} does not divide n_embd {hidden}");
        string act = c.GetString("activation_function", "gelu_new");
        Activation activation = act switch
        {
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => Activation.GeluTanh,
            "gelu" => Activation.Gelu,
            "relu" => Activation.Relu,
            "tanh" => Activation.Tanh,
            _ => throw new ModelFormatException(c.Source, "activation_function", $"'{act}' is not supported"),
        };
        if (c.GetBool("reorder_and_upcast_attn", false))
            { /* only changes numerics (upcast to f32); we already compute in f32 */ }
        if (c.GetBool("add_cross_attention", false))
            throw new ModelFormatException(c.Source, "add_cross_attention", "cross-attention is not supported");
        return new Gpt2Config
        {
            VocabSize = c.GetInt("vocab_size"),
            HiddenSize = hidden,
            InnerSize = c.TryGetInt("n_inner") ?? 4 * hidden,
            Layers = c.GetIntAny("n_layer", "num_hidden_layers"),
            Heads = heads,
            MaxPositions = c.GetIntAny("n_positions", "max_position_embeddings"),
            LayerNormEps = c.GetFloat("layer_norm_epsilon", 1e-5f),
            Activation = activation,
            ScaleAttnWeights = c.GetBool("scale_attn_weights", true),
            ScaleAttnByInverseLayerIdx = c.GetBool("scale_attn_by_inverse_layer_idx", false),
        };
    }
}

/// <summary>One GPT-2 block: pre-LayerNorm attention with a fused QKV projection, pre-LayerNorm MLP.</summary>
public sealed class Gpt2Layer
{
    public required LayerNormWeights Ln1 { get; init; }
    public required ILinearWeight Qkv { get; init; }
    public required ILinearWeight AttnOut { get; init; }
    public required LayerNormWeights Ln2 { get; init; }
    public required ILinearWeight Fc { get; init; }
    public required ILinearWeight MlpOut { get; init; }
}

/// <summary>
/// GPT2LMHeadModel over a left-padded batch: <see cref="Forward"/> (logits for every position) and
/// <see cref="ForwardCached"/> (prefill/decode against a <see cref="KvCache"/>, positions from the mask as generate() does).
/// Modules (under <c>transformer.</c> or bare): <c>wte</c>, <c>wpe</c>, <c>h.N.{ln_1, attn.{c_attn, c_proj}, ln_2,
/// mlp.{c_fc, c_proj}}</c>, <c>ln_f</c>; the LM head is tied to <c>wte</c> (or <c>lm_head</c> when present and untied).
/// Conv1D weights are stored <c>[in, out]</c> and transposed at load to the <c>[out, in]</c> Linear layout.
/// Every op (Linear, LayerNorm, Gather, Add, CachedAttention) goes through <see cref="ITensorOps"/>.
/// </summary>
public sealed class Gpt2Model : ICausalLM
{
    private readonly ITensorOps _ops;
    private readonly Tensor _wte, _wpe;
    private readonly Gpt2Layer[] _layers;
    private readonly LayerNormWeights _lnF;
    private readonly ILinearWeight _lmHead;
    private readonly DecoderScratchSlot _scratch = new();

    public Gpt2Model(Gpt2Config config, WeightScope root, bool tieWordEmbeddings = true)
    {
        _ops = root.Ops;
        Config = config;
        int h = config.HiddenSize;
        WeightScope t = root.Contains("transformer.wte.weight") ? root.Sub("transformer") : root;
        _wte = t.Sub("wte").Get("weight", config.VocabSize, h);
        _wpe = t.Sub("wpe").Get("weight", config.MaxPositions, h);
        _layers = new Gpt2Layer[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            WeightScope layer = t.Sub("h").Sub(i.ToString());
            WeightScope attn = layer.Sub("attn"), mlp = layer.Sub("mlp");
            _layers[i] = new Gpt2Layer
            {
                Ln1 = layer.LayerNorm("ln_1", h, config.LayerNormEps),
                Qkv = Conv1D(attn, "c_attn", h, 3 * h),
                AttnOut = Conv1D(attn, "c_proj", h, h),
                Ln2 = layer.LayerNorm("ln_2", h, config.LayerNormEps),
                Fc = Conv1D(mlp, "c_fc", h, config.InnerSize),
                MlpOut = Conv1D(mlp, "c_proj", config.InnerSize, h),
            };
        }
        _lnF = t.LayerNorm("ln_f", h, config.LayerNormEps);
        bool hasHead = root.Contains("lm_head.weight");
        if (!tieWordEmbeddings && !hasHead)
            throw new ModelFormatException("model.safetensors", root.NameOf("lm_head.weight"), "weight is missing and tie_word_embeddings is false");
        _lmHead = hasHead && !tieWordEmbeddings
            ? root.Linear("lm_head", h, config.VocabSize, bias: false)
            : _ops.PrepareLinear(_wte.WithName(t.NameOf("wte.weight")), null);
    }

    public Gpt2Config Config { get; }
    public int VocabSize => Config.VocabSize;
    public int MaxPositions => Config.MaxPositions;
    public KvCache CreateCache(int batch, int capacity) => new(Config.Layers, Config.HiddenSize, batch, capacity);

    /// <summary>A GPT-2 Conv1D (<c>weight [in, out]</c>, <c>bias [out]</c>) as a Linear layer.</summary>
    private static ILinearWeight Conv1D(WeightScope scope, string name, int inFeatures, int outFeatures)
    {
        WeightScope s = scope.Sub(name);
        Tensor w = s.Get("weight", inFeatures, outFeatures).TransposeLastTwo().WithName(s.NameOf("weight"));
        Tensor b = s.Get("bias", outFeatures);
        return scope.Ops.PrepareLinear(w, b);
    }

    /// <summary>Loads an HF GPT-2 checkpoint directory (<c>config.json</c> + safetensors).</summary>
    public static Gpt2Model Load(string directory, ITensorOps ops) =>
        Checkpoint.Load(directory, ops, (hf, scope) => new Gpt2Model(Gpt2Config.FromHf(hf), scope, hf.GetBool("tie_word_embeddings", true)));

    /// <summary>How position ids are derived for a padded batch.</summary>
    public PositionMode Positions { get; set; } = PositionMode.Arange;

    public enum PositionMode
    {
        /// <summary><c>0..seq-1</c> for every row, as transformers' GPT2 forward does without explicit position_ids.</summary>
        Arange,
        /// <summary><c>cumsum(mask) − 1</c>, 0 at padding, as generate() passes them.</summary>
        FromMask,
    }

    public static int[] PositionIds(int batch, int seq, ReadOnlySpan<long> mask, PositionMode mode)
    {
        if (mode == PositionMode.FromMask) return LlamaModel.PositionsFromMask(batch, seq, mask);
        var p = new int[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++) p[b * seq + t] = t;
        return p;
    }

    /// <summary>
    /// Logits <c>[batch, seq, vocab]</c> for a left-padded batch, positions as <see cref="Positions"/> says; padding
    /// positions' logits are not meaningful.
    /// </summary>
    public Tensor Forward(int batch, int seq, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> attentionMask)
    {
        int[]? positions = Positions == PositionMode.Arange ? PositionIds(batch, seq, attentionMask, PositionMode.Arange) : null;
        return Run(batch, seq, inputIds, attentionMask, CreateCache(batch, seq), lastOnly: false, positions);
    }

    public Tensor ForwardCached(int batch, int count, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> newMask, KvCache cache,
        bool lastOnly = true) => Run(batch, count, inputIds, newMask, cache, lastOnly, positionsOverride: null);

    /// <summary>The layers over one cache's new positions; positions from the cache unless overridden (Arange).</summary>
    private Tensor Run(int batch, int count, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> newMask, KvCache cache,
        bool lastOnly, int[]? positionsOverride)
    {
        if (cache.Batch != batch) throw new ArgumentException($"cache batch {cache.Batch} != {batch}", nameof(cache));
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count));
        Tensor logits = Run([new CachePart(cache, count, inputIds.ToArray(), newMask.ToArray())], lastOnly, positionsOverride);
        return lastOnly ? logits : logits.Reshape(batch, count, Config.VocabSize);
    }

    public Tensor ForwardParts(IReadOnlyList<CachePart> parts, bool lastOnly = true) => Run(parts, lastOnly, positionsOverride: null);

    /// <summary>
    /// The layers over every part's new positions as one stack of rows, each part attending to its own cache; positions
    /// continue each cache's <c>cumsum(mask) − 1</c> unless <paramref name="positionsOverride"/> gives them.
    /// </summary>
    private Tensor Run(IReadOnlyList<CachePart> parts, bool lastOnly, int[]? positionsOverride)
    {
        Gpt2Config c = Config;
        var stack = new StackedParts(parts, c.VocabSize);
        int[] positions = positionsOverride ?? stack.Positions;
        foreach (int p in positions)
            if (p >= c.MaxPositions)
                throw new ArgumentOutOfRangeException(nameof(parts), $"position {p} is beyond the model's n_positions {c.MaxPositions}");
        int h = c.HiddenSize;
        // Each pass rents its own buffers, so concurrent passes of one model never share one.
        DecoderScratch s = _scratch.Rent(new DecoderShape(h, 3 * h, h, c.InnerSize, GatedMlp: false), stack.Rows, stack.LastRows.Length);
        try
        {
            return RunLayers(parts, stack, positions, s, lastOnly);
        }
        finally
        {
            _scratch.Return(s);
        }
    }

    private Tensor RunLayers(IReadOnlyList<CachePart> parts, StackedParts stack, int[] positions, DecoderScratch s, bool lastOnly)
    {
        Gpt2Config c = Config;
        int h = c.HiddenSize;
        Tensor hidden = s.Hidden, normed = s.Normed, projected = s.Projected, qkv = s.QueryKeyValue, context = s.Context;
        Tensor inner = s.Gated;

        _ops.Gather(_wte, stack.Ids, hidden);
        _ops.Gather(_wpe, positions, hidden, accumulate: true);
        LayerNormWeights ln = _layers[0].Ln1;
        _ops.LayerNorm(hidden, null, ln.Gamma, ln.Beta, ln.Epsilon, normed);

        for (int li = 0; li < _layers.Length; li++)
        {
            Gpt2Layer layer = _layers[li];
            _ops.Linear(normed, layer.Qkv, qkv);
            float scale = c.ScaleAttnWeights ? 1f / MathF.Sqrt(c.HeadDim) : 1f;
            if (c.ScaleAttnByInverseLayerIdx) scale /= li + 1;
            for (int p = 0; p < parts.Count; p++)
            {
                KvCache cache = parts[p].Cache;
                int row = stack.RowOffset[p], count = parts[p].Count;
                // q, k and v are read where they sit in the fused c_attn rows (stride 3h): no copies.
                ReadOnlySpan<float> rows = qkv.AsSpan()[(row * 3 * h)..];
                cache.Store(li, count, rows, h, 3 * h, rows, 2 * h, 3 * h);
                _ops.CachedAttention(rows, 3 * h, cache.Keys(li), cache.Values(li), cache.Mask, context.AsSpan()[(row * h)..],
                    new CachedAttentionShape(cache.Batch, count, stack.Start[p], cache.Capacity, c.Heads, c.Heads, c.HeadDim, scale));
            }
            _ops.Linear(context, layer.AttnOut, projected);
            // hidden += projected and normed = ln_2(hidden) in one pass over the rows.
            ln = layer.Ln2;
            _ops.LayerNorm(hidden, projected, ln.Gamma, ln.Beta, ln.Epsilon, normed, sum: hidden);
            // c_fc's bias and GELU are applied in the GEMM's epilogue.
            _ops.Linear(normed, layer.Fc, inner, c.Activation);
            _ops.Linear(inner, layer.MlpOut, projected);
            // The MLP's residual add fuses with the next layer's ln_1; after the last layer ln_f reads only the rows the
            // LM head needs.
            if (li + 1 < _layers.Length)
            {
                ln = _layers[li + 1].Ln1;
                _ops.LayerNorm(hidden, projected, ln.Gamma, ln.Beta, ln.Epsilon, normed, sum: hidden);
            }
            else _ops.Add(hidden, projected);
        }
        stack.Commit();

        // Generation needs only each sequence's last position: normalise and project just those rows (the LM head is
        // the largest matmul).
        Tensor final = hidden;
        if (lastOnly)
        {
            stack.CopyLastRows(hidden, s.LastRows);
            final = s.LastRows;
        }
        _ops.LayerNorm(final, null, _lnF.Gamma, _lnF.Beta, _lnF.Epsilon, final);
        Tensor logits = Tensor.Zeros(final.Shape[0], c.VocabSize);
        _ops.Linear(final, _lmHead, logits);
        return logits;
    }
}
