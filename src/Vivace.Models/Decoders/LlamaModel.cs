using Vivace.Formats;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>One Llama decoder layer's weights: pre-RMSNorm attention with grouped-query heads, pre-RMSNorm SwiGLU MLP.</summary>
public sealed class LlamaLayer
{
    public required RmsNorm InputNorm { get; init; }
    public required ILinearWeight Query { get; init; }
    public required ILinearWeight Key { get; init; }
    public required ILinearWeight Value { get; init; }
    public required ILinearWeight Output { get; init; }
    public required RmsNorm PostAttentionNorm { get; init; }
    public required ILinearWeight Gate { get; init; }
    public required ILinearWeight Up { get; init; }
    public required ILinearWeight Down { get; init; }
}

/// <summary>
/// LlamaForCausalLM's forward pass over a left-padded batch: <see cref="Forward"/> (no cache, logits for every position)
/// and <see cref="ForwardCached"/> (prefill/decode against a <see cref="KvCache"/>).
/// Modules: <c>model.embed_tokens</c>, <c>model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj,
/// post_attention_layernorm, mlp.{gate,up,down}_proj}</c>, <c>model.norm</c>, <c>lm_head</c> (or the embedding when tied).
/// Linear layers and the embedding lookup go through <see cref="ITensorOps"/>; RMSNorm, RoPE, causal GQA attention and
/// SiLU·mul are scalar here for correctness — fused backend kernels come later.
/// </summary>
public sealed class LlamaModel
{
    private readonly ITensorOps _ops;
    private readonly Tensor _embedTokens;
    private readonly LlamaLayer[] _layers;
    private readonly RmsNorm _finalNorm;
    private readonly ILinearWeight _lmHead;
    private readonly Rope _rope;

    public LlamaModel(DecoderConfig config, WeightScope root)
    {
        _ops = root.Ops;
        Config = config;
        int h = config.HiddenSize, hd = config.HeadDim;
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
                InputNorm = new RmsNorm(layer.Sub("input_layernorm").Get("weight", h), config.RmsNormEps),
                Query = attn.Linear("q_proj", h, qOut, config.AttentionBias),
                Key = attn.Linear("k_proj", h, kvOut, config.AttentionBias),
                Value = attn.Linear("v_proj", h, kvOut, config.AttentionBias),
                Output = attn.Linear("o_proj", qOut, h, config.AttentionBias),
                PostAttentionNorm = new RmsNorm(layer.Sub("post_attention_layernorm").Get("weight", h), config.RmsNormEps),
                Gate = mlp.Linear("gate_proj", h, config.IntermediateSize, config.MlpBias),
                Up = mlp.Linear("up_proj", h, config.IntermediateSize, config.MlpBias),
                Down = mlp.Linear("down_proj", config.IntermediateSize, h, config.MlpBias),
            };
        }
        _finalNorm = new RmsNorm(model.Sub("norm").Get("weight", h), config.RmsNormEps);
        bool hasHead = root.Contains("lm_head.weight");
        if (!config.TieWordEmbeddings && !hasHead)
            throw new ModelFormatException("model.safetensors", root.NameOf("lm_head.weight"), "weight is missing and tie_word_embeddings is false");
        _lmHead = hasHead && !config.TieWordEmbeddings
            ? root.Linear("lm_head", h, config.VocabSize, bias: false)
            : _ops.PrepareLinear(_embedTokens.WithName(model.NameOf("embed_tokens.weight")), null);
        _rope = new Rope(hd, config.RopeTheta, config.RopeScaling, config.RopeScaling.MaxPositionEmbeddings);
    }

    public DecoderConfig Config { get; }

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
        ForwardCached(batch, seq, inputIds, attentionMask, new KvCache(Config, batch, seq), lastOnly: false);

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
        DecoderConfig c = Config;
        if (cache.Batch != batch) throw new ArgumentException($"cache batch {cache.Batch} != {batch}", nameof(cache));
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count));
        int tokens = batch * count, h = c.HiddenSize, hd = c.HeadDim;
        int qOut = c.Heads * hd, kvOut = c.KeyValueHeads * hd;
        var ids = new int[tokens];
        for (int i = 0; i < tokens; i++) ids[i] = checked((int)inputIds[i]);
        int start = cache.Length;
        int[] positions = cache.Reserve(count, newMask);

        Tensor hidden = Tensor.Zeros(tokens, h);
        _ops.Gather(_embedTokens, ids, hidden);
        Tensor normed = Tensor.Zeros(tokens, h), projected = Tensor.Zeros(tokens, h);
        Tensor q = Tensor.Zeros(tokens, qOut), k = Tensor.Zeros(tokens, kvOut), v = Tensor.Zeros(tokens, kvOut);
        Tensor context = Tensor.Zeros(tokens, qOut);
        Tensor gate = Tensor.Zeros(tokens, c.IntermediateSize), up = Tensor.Zeros(tokens, c.IntermediateSize);

        for (int l = 0; l < _layers.Length; l++)
        {
            LlamaLayer layer = _layers[l];
            layer.InputNorm.Forward(hidden, normed);
            _ops.Linear(normed, layer.Query, q);
            _ops.Linear(normed, layer.Key, k);
            _ops.Linear(normed, layer.Value, v);
            _rope.Apply(q, positions);
            _rope.Apply(k, positions);
            // Store the new keys/values into their reserved slots, then attend over slots [0, start + t].
            Span<float> keys = cache.Keys(l), values = cache.Values(l);
            for (int b = 0; b < batch; b++)
            for (int t = 0; t < count; t++)
            {
                int slot = (b * cache.Capacity + start + t) * kvOut;
                k.AsSpan().Slice((b * count + t) * kvOut, kvOut).CopyTo(keys.Slice(slot, kvOut));
                v.AsSpan().Slice((b * count + t) * kvOut, kvOut).CopyTo(values.Slice(slot, kvOut));
            }
            CachedAttention(q, keys, values, cache.Mask, context, batch, count, start, cache.Capacity,
                c.Heads, c.KeyValueHeads, hd);
            _ops.Linear(context, layer.Output, projected);
            _ops.Add(hidden, projected);

            layer.PostAttentionNorm.Forward(hidden, normed);
            _ops.Linear(normed, layer.Gate, gate);
            _ops.Linear(normed, layer.Up, up);
            SiluMul(gate, up);
            _ops.Linear(gate, layer.Down, projected);
            _ops.Add(hidden, projected);
        }
        cache.Commit(count, newMask);

        if (lastOnly)
        {
            // Only each sequence's last new position feeds the next token: normalise and project just those rows.
            Tensor last = Tensor.Zeros(batch, h);
            for (int b = 0; b < batch; b++)
                hidden.AsSpan().Slice(((b + 1) * count - 1) * h, h).CopyTo(last.AsSpan().Slice(b * h, h));
            _finalNorm.Forward(last, last);
            Tensor lastLogits = Tensor.Zeros(batch, c.VocabSize);
            _ops.Linear(last, _lmHead, lastLogits);
            return lastLogits;
        }
        _finalNorm.Forward(hidden, hidden);
        Tensor logits = Tensor.Zeros(tokens, c.VocabSize);
        _ops.Linear(hidden, _lmHead, logits);
        return logits.Reshape(batch, count, c.VocabSize);
    }

    /// <summary>
    /// Attention of <paramref name="count"/> new queries per sequence (at cache slots start..start+count−1) over the cached
    /// keys/values <c>[batch, capacity, kvHeads·headDim]</c>: query at slot s sees slots j ≤ s whose mask is set, so left
    /// padding is never attended to.
    /// </summary>
    private static void CachedAttention(Tensor query, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<long> mask,
        Tensor output, int batch, int count, int start, int capacity, int heads, int kvHeads, int headDim)
    {
        ReadOnlySpan<float> q = query.AsSpan();
        Span<float> o = output.AsSpan();
        o.Clear();
        int qWidth = heads * headDim, kvWidth = kvHeads * headDim, group = heads / kvHeads;
        float scale = 1f / MathF.Sqrt(headDim);
        var scores = new float[start + count];
        for (int b = 0; b < batch; b++)
        for (int t = 0; t < count; t++)
        for (int h = 0; h < heads; h++)
        {
            int kvh = h / group, s = start + t;
            ReadOnlySpan<float> qi = q.Slice((b * count + t) * qWidth + h * headDim, headDim);
            float max = float.NegativeInfinity;
            for (int j = 0; j <= s; j++)
            {
                if (mask[b * capacity + j] == 0) { scores[j] = float.NegativeInfinity; continue; }
                ReadOnlySpan<float> kj = k.Slice((b * capacity + j) * kvWidth + kvh * headDim, headDim);
                float dot = 0;
                for (int d = 0; d < headDim; d++) dot += qi[d] * kj[d];
                scores[j] = dot * scale;
                max = MathF.Max(max, scores[j]);
            }
            if (float.IsNegativeInfinity(max)) continue; // nothing visible (leading padding): output stays zero
            float sum = 0;
            for (int j = 0; j <= s; j++)
            {
                scores[j] = float.IsNegativeInfinity(scores[j]) ? 0 : MathF.Exp(scores[j] - max);
                sum += scores[j];
            }
            Span<float> oi = o.Slice((b * count + t) * qWidth + h * headDim, headDim);
            for (int j = 0; j <= s; j++)
            {
                if (scores[j] == 0) continue;
                float p = scores[j] / sum;
                ReadOnlySpan<float> vj = v.Slice((b * capacity + j) * kvWidth + kvh * headDim, headDim);
                for (int d = 0; d < headDim; d++) oi[d] += p * vj[d];
            }
        }
    }

    /// <summary><c>gate = silu(gate) · up</c>, in place. Scalar; fused kernel later.</summary>
    private static void SiluMul(Tensor gate, Tensor up)
    {
        Span<float> g = gate.AsSpan();
        ReadOnlySpan<float> u = up.AsSpan();
        for (int i = 0; i < g.Length; i++)
        {
            float x = g[i];
            g[i] = x / (1f + MathF.Exp(-x)) * u[i];
        }
    }
}
