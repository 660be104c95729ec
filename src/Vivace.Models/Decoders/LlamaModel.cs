using Vivace.Formats;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// One Llama-family decoder layer's weights: pre-RMSNorm attention with grouped-query heads, pre-RMSNorm gated MLP.
/// q/k/v are one fused projection (<c>[q | k | v]</c> outputs) and gate/up another (<c>[gate | up]</c>), whether the
/// checkpoint stores them apart (Llama, Mistral, Qwen2, Gemma) or fused (Phi-3's qkv_proj and gate_up_proj).
/// </summary>
public sealed class LlamaLayer
{
    public required RmsNorm InputNorm { get; init; }
    public required ILinearWeight QueryKeyValue { get; init; }
    public required ILinearWeight Output { get; init; }
    public required RmsNorm PostAttentionNorm { get; init; }
    public required ILinearWeight GateUp { get; init; }
    public required ILinearWeight Down { get; init; }
    public int? SlidingWindow { get; init; }
}

/// <summary>
/// The Llama family's causal LM (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Phi3ForCausalLM,
/// GemmaForCausalLM) over a left-padded batch: <see cref="Forward"/> (logits for every position) and
/// <see cref="ForwardCached"/> (prefill/decode against a <see cref="KvCache"/>). Modules: <c>model.embed_tokens</c>,
/// <c>model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj | self_attn.{qkv,o}_proj, post_attention_layernorm,
/// mlp.{gate,up,down}_proj | mlp.{gate_up,down}_proj}</c>, <c>model.norm</c>, <c>lm_head</c> (or the embedding when tied).
/// Linear layers, the embedding lookup, attention over the cache, residual add + RMSNorm and the gate go through
/// <see cref="ITensorOps"/>; RoPE rotates q and k in place inside the fused QKV rows. Activation buffers are reused pass
/// after pass (<see cref="DecoderScratchSlot"/>).
/// </summary>
public sealed class LlamaModel : ICausalLM
{
    private readonly ITensorOps _ops;
    private readonly Tensor _embedTokens;
    private readonly LlamaLayer[] _layers;
    private readonly RmsNorm _finalNorm;
    private readonly ILinearWeight _lmHead;
    private readonly Rope _rope;
    private readonly DecoderScratchSlot _scratch = new();

    public LlamaModel(DecoderConfig config, WeightScope root)
    {
        _ops = root.Ops;
        Config = config;
        int h = config.HiddenSize, hd = config.HeadDim, inner = config.IntermediateSize;
        int qOut = config.Heads * hd, kvOut = config.KeyValueHeads * hd;
        if (config.Heads % config.KeyValueHeads != 0)
            throw new ModelFormatException("config.json", "num_key_value_heads",
                $"{config.KeyValueHeads} does not divide num_attention_heads {config.Heads}");
        WeightScope model = root.Sub("model");
        _embedTokens = model.Sub("embed_tokens").Get("weight", config.VocabSize, h);
        _layers = new LlamaLayer[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            WeightScope layer = model.Sub("layers").Sub(i.ToString());
            WeightScope attn = layer.Sub("self_attn"), mlp = layer.Sub("mlp");
            _layers[i] = new LlamaLayer
            {
                InputNorm = Norm(layer.Sub("input_layernorm"), config),
                QueryKeyValue = attn.Contains("qkv_proj.weight")
                    ? attn.Linear("qkv_proj", h, qOut + 2 * kvOut, config.QkvBias)
                    : attn.FusedLinear([("q_proj", qOut), ("k_proj", kvOut), ("v_proj", kvOut)], h, config.QkvBias),
                Output = attn.Linear("o_proj", qOut, h, config.OutputBias),
                PostAttentionNorm = Norm(layer.Sub("post_attention_layernorm"), config),
                GateUp = mlp.Contains("gate_up_proj.weight")
                    ? mlp.Linear("gate_up_proj", h, 2 * inner, config.MlpBias)
                    : mlp.FusedLinear([("gate_proj", inner), ("up_proj", inner)], h, config.MlpBias),
                Down = mlp.Linear("down_proj", inner, h, config.MlpBias),
                SlidingWindow = i < config.SlidingWindows.Count ? config.SlidingWindows[i] : null,
            };
        }
        _finalNorm = Norm(model.Sub("norm"), config);
        bool hasHead = root.Contains("lm_head.weight");
        if (!config.TieWordEmbeddings && !hasHead)
            throw new ModelFormatException("model.safetensors", root.NameOf("lm_head.weight"), "weight is missing and tie_word_embeddings is false");
        // A tied head over a block-quantized embedding (GGUF) multiplies with the blocks, as llama.cpp does: the lookup
        // table above is their f32 expansion, read one row per token.
        _lmHead = hasHead && !config.TieWordEmbeddings
            ? root.Linear("lm_head", h, config.VocabSize, bias: false)
            : model.Sub("embed_tokens").GetQuantized("weight", config.VocabSize, h) is { } quantizedTable
                ? _ops.PrepareLinear(quantizedTable, null)
                : _ops.PrepareLinear(_embedTokens.WithName(model.NameOf("embed_tokens.weight")), null);
        if (config.EmbeddingScale != 1f)
        {
            // Gemma scales embeddings on lookup only; the tied head above keeps the unscaled table.
            float[] scaled = _embedTokens.AsSpan().ToArray();
            foreach (ref float x in scaled.AsSpan()) x *= config.EmbeddingScale;
            _embedTokens = Tensor.FromArray(scaled, config.VocabSize, h);
        }
        _rope = new Rope(hd, config.RopeTheta, config.RopeScaling, config.RopeScaling.MaxPositionEmbeddings);
    }

    private static RmsNorm Norm(WeightScope scope, DecoderConfig config)
    {
        Tensor weight = scope.Get("weight", config.HiddenSize);
        if (config.NormWeightOffset != 0)
        {
            float[] offset = weight.AsSpan().ToArray();
            foreach (ref float w in offset.AsSpan()) w += config.NormWeightOffset; // Gemma: x̂ · (1 + w), summed in f32 as it does
            weight = Tensor.FromArray(offset, config.HiddenSize);
        }
        return new RmsNorm(weight, config.RmsNormEps);
    }

    public DecoderConfig Config { get; }
    public int VocabSize => Config.VocabSize;
    public int MaxPositions => Config.MaxPositions;
    public KvCache CreateCache(int batch, int capacity) =>
        new(Config.Layers, Config.KeyValueHeads * Config.HeadDim, batch, capacity);

    /// <summary>Loads an HF Llama checkpoint directory (<c>config.json</c> + safetensors).</summary>
    public static LlamaModel Load(string directory, ITensorOps ops) =>
        Checkpoint.Load(directory, ops, (hf, scope) => new LlamaModel(DecoderConfig.FromHf(hf), scope));

    /// <summary>
    /// Position ids as transformers derives them from a left-padded mask: <c>cumsum(mask) − 1</c>, 0 at padding.
    /// (RoPE scores depend only on relative positions, so this matches a forward with the default arange too.)
    /// </summary>
    public static int[] PositionsFromMask(int batch, int seq, ReadOnlySpan<long> mask)
    {
        var positions = new int[batch * seq];
        for (int b = 0; b < batch; b++)
        {
            int count = 0;
            for (int t = 0; t < seq; t++)
            {
                if (mask[b * seq + t] != 0) count++;
                positions[b * seq + t] = mask[b * seq + t] != 0 ? count - 1 : 0;
            }
        }
        return positions;
    }

    /// <summary>
    /// Logits <c>[batch, seq, vocab]</c> for a padded batch (<paramref name="inputIds"/> and <paramref name="attentionMask"/>
    /// both <c>[batch, seq]</c>, row-major). Padding positions' logits are not meaningful.
    /// </summary>
    public Tensor Forward(int batch, int seq, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> attentionMask) =>
        // A prefill into a cache that holds exactly this batch: one implementation of the layers and attention.
        ForwardCached(batch, seq, inputIds, attentionMask, CreateCache(batch, seq), lastOnly: false);

    /// <summary>
    /// Cached forward: runs only the <paramref name="count"/> new positions per sequence (<paramref name="inputIds"/> and
    /// <paramref name="newMask"/> both <c>[batch, count]</c>), appends their keys/values (after RoPE) to
    /// <paramref name="cache"/>, and attends to everything cached so far. Prefill is this call with the whole prompt on an
    /// empty cache; a decode step is this call with count 1. Returns logits <c>[batch, vocab]</c> for the last new
    /// position only when <paramref name="lastOnly"/> (generation needs nothing else, and the LM head is the largest
    /// matmul), otherwise <c>[batch, count, vocab]</c>.
    /// </summary>
    public Tensor ForwardCached(int batch, int count, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> newMask, KvCache cache,
        bool lastOnly = true)
    {
        if (cache.Batch != batch) throw new ArgumentException($"cache batch {cache.Batch} != {batch}", nameof(cache));
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count));
        Tensor logits = ForwardParts([new CachePart(cache, count, inputIds.ToArray(), newMask.ToArray())], lastOnly);
        return lastOnly ? logits : logits.Reshape(batch, count, Config.VocabSize);
    }

    /// <summary>
    /// The cached forward over several caches at once (continuous batching): every part's new tokens go through the
    /// layers as one stack of rows, each part attends to its own cache. Logits <c>[sequences, vocab]</c> for each
    /// sequence's last new token (parts in order, then batch rows) when <paramref name="lastOnly"/>, else
    /// <c>[rows, vocab]</c> for every stacked row.
    /// </summary>
    public Tensor ForwardParts(IReadOnlyList<CachePart> parts, bool lastOnly = true)
    {
        DecoderConfig c = Config;
        var stack = new StackedParts(parts, c.VocabSize);
        int tokens = stack.Rows, hd = c.HeadDim;
        int qOut = c.Heads * hd, kvOut = c.KeyValueHeads * hd, qkvWidth = qOut + 2 * kvOut;
        DecoderScratch s = _scratch.Rent(new DecoderShape(c.HiddenSize, qkvWidth, qOut, c.IntermediateSize), tokens, stack.LastRows.Length);
        try
        {
            return ForwardLayers(parts, stack, s, lastOnly);
        }
        finally
        {
            _scratch.Return(s);
        }
    }

    private Tensor ForwardLayers(IReadOnlyList<CachePart> parts, StackedParts stack, DecoderScratch s, bool lastOnly)
    {
        DecoderConfig c = Config;
        int hd = c.HeadDim, qOut = c.Heads * hd, kvOut = c.KeyValueHeads * hd, qkvWidth = qOut + 2 * kvOut;
        Tensor hidden = s.Hidden, normed = s.Normed, projected = s.Projected, qkv = s.QueryKeyValue, context = s.Context;
        Activation gate = c.GateActivation.ToActivation();
        float scale = 1f / MathF.Sqrt(hd);

        _ops.Gather(_embedTokens, stack.Ids, hidden);
        _layers[0].InputNorm.Forward(_ops, hidden, null, normed);
        for (int l = 0; l < _layers.Length; l++)
        {
            LlamaLayer layer = _layers[l];
            _ops.Linear(normed, layer.QueryKeyValue, qkv);
            // RoPE rotates q and k where they sit in the fused rows; k and v go to the cache and q to attention from there.
            _rope.Apply(qkv.AsSpan(), qkvWidth, qOut + kvOut, stack.Positions);
            for (int p = 0; p < parts.Count; p++)
            {
                KvCache cache = parts[p].Cache;
                int row = stack.RowOffset[p], count = parts[p].Count;
                ReadOnlySpan<float> rows = qkv.AsSpan()[(row * qkvWidth)..];
                cache.Store(l, count, rows, qOut, qkvWidth, rows, qOut + kvOut, qkvWidth);
                _ops.CachedAttention(rows, qkvWidth, cache.Keys(l), cache.Values(l), cache.Mask,
                    context.AsSpan()[(row * qOut)..], new CachedAttentionShape(cache.Batch, count, stack.Start[p], cache.Capacity,
                        c.Heads, c.KeyValueHeads, hd, scale, layer.SlidingWindow ?? 0));
            }
            _ops.Linear(context, layer.Output, projected);
            // hidden += projected and normed = RMSNorm(hidden) in one pass.
            layer.PostAttentionNorm.Forward(_ops, hidden, projected, normed, sum: hidden);
            _ops.Linear(normed, layer.GateUp, s.GateUp!);
            _ops.GatedActivation(s.GateUp!, s.Gated, gate);
            _ops.Linear(s.Gated, layer.Down, projected);
            // The MLP's residual add fuses with the next layer's input norm; after the last layer the final norm reads
            // only the rows the LM head needs.
            if (l + 1 < _layers.Length) _layers[l + 1].InputNorm.Forward(_ops, hidden, projected, normed, sum: hidden);
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
        _finalNorm.Forward(_ops, final, null, final);
        Tensor logits = Tensor.Zeros(final.Shape[0], c.VocabSize);
        _ops.Linear(final, _lmHead, logits);
        return logits;
    }
}
