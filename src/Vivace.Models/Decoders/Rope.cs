using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// Rotary position embedding with the rotate_half convention transformers' Llama uses: within the first
/// <see cref="RotaryDim"/> dims of each head, dimension i pairs with i + RotaryDim/2 and is rotated by angle
/// <c>pos · inv_freq[i]</c>; cos and sin are multiplied by the variant's attention factor (yarn, longrope); dims past
/// RotaryDim (partial_rotary_factor &lt; 1) pass through unchanged.
/// <para>
/// inv_freq per <see cref="RopeScaling.Type"/> follows transformers 5.17 modeling_rope_utils.py
/// (<c>_compute_*_parameters</c>, <c>dynamic_rope_update</c>) and LlamaRotaryEmbedding, op for op in f32 where torch
/// works on f32 tensors and in double where it works on Python floats:
/// default <c>1/θ^(2i/d)</c>; linear divides it by factor; llama3 divides low frequencies by factor and blends the
/// middle band; yarn blends interpolated (÷factor) and extrapolated frequencies over a linear ramp between the
/// beta_fast/beta_slow correction dims; longrope divides by short_factor or long_factor; dynamic NTK raises θ by
/// <c>(factor·L/max − (factor−1))^(d/(d−2))</c> for a sequence length L past max_position_embeddings.
/// </para>
/// The rotation runs in place on strided rows (inside a fused QKV row), vectorized over the paired halves.
/// </summary>
public sealed class Rope
{
    private readonly float _theta;
    private readonly RopeScaling _scaling;
    private readonly int _maxPositions;
    private readonly float[] _invFreq;      // every type's inv_freq; dynamic's for L ≤ max; longrope's short one
    private readonly float[]? _longInvFreq; // longrope past the original context

    /// <summary>Default (unscaled) rope over the whole head.</summary>
    public Rope(int headDim, float theta) : this(headDim, theta, RopeScaling.Default, 2048) { }

    /// <summary>The variant <paramref name="scaling"/>, with its own <see cref="RopeScaling.MaxPositionEmbeddings"/>.</summary>
    public Rope(int headDim, float theta, RopeScaling scaling) : this(headDim, theta, scaling, scaling.MaxPositionEmbeddings) { }

    /// <param name="maxPositionEmbeddings">The config's top-level <c>max_position_embeddings</c>: the dynamic NTK
    /// threshold, and what yarn/longrope derive a missing factor from.</param>
    public Rope(int headDim, float theta, RopeScaling scaling, int maxPositionEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(scaling);
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentException($"head_dim {headDim} must be positive and even", nameof(headDim));
        if (scaling.MissingField() is string missing)
            throw new ArgumentException($"rope_type '{scaling.Type}' needs {missing}", nameof(scaling));
        HeadDim = headDim;
        // transformers: dim = int(head_dim * partial_rotary_factor)
        RotaryDim = (int)(headDim * scaling.PartialRotaryFactor);
        if (RotaryDim <= 0 || RotaryDim % 2 != 0 || RotaryDim > headDim)
            throw new ArgumentException($"rotary dim {RotaryDim} (head_dim {headDim} × partial_rotary_factor {scaling.PartialRotaryFactor}) must be even and in (0, head_dim]", nameof(scaling));
        _theta = theta;
        _scaling = scaling;
        _maxPositions = maxPositionEmbeddings;
        double attention = 1.0;
        switch (scaling.Type)
        {
            case "default":
            case "dynamic": // at init (and for L ≤ max) transformers' dynamic inv_freq equals the default one
                _invFreq = DefaultInvFreq(theta);
                break;
            case "linear":
                _invFreq = DefaultInvFreq(theta);
                float linear = (float)scaling.Factor!.Value;
                for (int i = 0; i < _invFreq.Length; i++) _invFreq[i] /= linear;
                break;
            case "llama3":
                _invFreq = Llama3InvFreq();
                break;
            case "yarn":
                (_invFreq, attention) = YarnInvFreq();
                break;
            case "longrope":
                (_invFreq, _longInvFreq, attention) = LongRopeInvFreq();
                break;
            default:
                throw new ArgumentException($"rope_type '{scaling.Type}' is not supported", nameof(scaling));
        }
        AttentionFactor = attention;
    }

    public int HeadDim { get; }

    /// <summary>How many leading dims of each head rotate: <c>int(HeadDim · partial_rotary_factor)</c>.</summary>
    public int RotaryDim { get; }

    /// <summary>The factor cos and sin are multiplied by (transformers' <c>attention_scaling</c>): 1 except for yarn and longrope.</summary>
    public double AttentionFactor { get; }

    /// <summary>
    /// The inverse frequencies (RotaryDim/2) a call whose largest position is <paramref name="seqLen"/> − 1 uses.
    /// Only dynamic and longrope depend on it. A fresh array.
    /// </summary>
    public float[] InverseFrequencies(int seqLen)
    {
        // Dynamic NTK: transformers' dynamic_rope_update recomputes inv_freq from seq_len = max(position_ids) + 1 when it
        // grows past max_position_embeddings, but it is module state: it keeps the largest inv_freq it has grown to until
        // a call's seq_len drops below max_position_embeddings again (then resets to the default). So after generating
        // up to length 40, a later unrelated 20-token call (max 16) there would still use the length-40 frequencies. Here
        // every call is a pure function of its own positions: within one generation (positions only grow, prefill then
        // decode steps) the two agree exactly; across requests ours does not depend on what ran before.
        if (_scaling.Type == "dynamic" && seqLen > _maxPositions) return DynamicInvFreq(seqLen);
        // longrope: dynamic_rope_update picks long_factor when seq_len > original_max_position_embeddings (stateless there too).
        if (_longInvFreq != null && seqLen > _scaling.OriginalMaxPositionEmbeddings!.Value) return (float[])_longInvFreq.Clone();
        return (float[])_invFreq.Clone();
    }

    /// <summary>
    /// Rotates every head of <paramref name="x"/> <c>[tokens, heads·headDim]</c> in place; row t at <paramref name="positions"/>[t].
    /// The sequence length dynamic NTK and longrope see is <c>max(positions) + 1</c> over this whole call (all rows of the
    /// batch), as transformers takes <c>torch.max(position_ids) + 1</c> over the batch.
    /// </summary>
    public void Apply(Tensor x, ReadOnlySpan<int> positions)
    {
        int width = x.Shape[1];
        if (width % HeadDim != 0) throw new ArgumentException($"row width {width} is not a multiple of head_dim {HeadDim}", nameof(x));
        Apply(x.AsSpan(), width, width, positions);
    }

    /// <summary>
    /// Rotates the heads in the first <paramref name="columns"/> floats of rows <paramref name="rowStride"/> apart, in
    /// place: q and k where they sit in a fused <c>[q | k | v]</c> row (columns = q and k widths), so nothing is copied out.
    /// cos and sin are computed once per row and shared by all its heads. <paramref name="vectorized"/> false: the
    /// scalar reference rotation (tests).
    /// </summary>
    public void Apply(Span<float> data, int rowStride, int columns, ReadOnlySpan<int> positions, bool vectorized = true)
    {
        if (columns % HeadDim != 0) throw new ArgumentException($"{columns} columns are not a multiple of head_dim {HeadDim}", nameof(columns));
        if (columns > rowStride) throw new ArgumentException($"{columns} columns exceed the row stride {rowStride}", nameof(columns));
        if (positions.Length > 0 && data.Length < (positions.Length - 1) * rowStride + columns)
            throw new ArgumentException($"{positions.Length} rows of stride {rowStride} do not fit {data.Length} floats", nameof(data));
        int half = RotaryDim / 2;
        float[] invFreq = _invFreq;
        if (_scaling.Type is "dynamic" or "longrope" && positions.Length > 0)
        {
            int maxPos = 0;
            foreach (int p in positions) maxPos = Math.Max(maxPos, p);
            invFreq = InverseFrequencies(maxPos + 1);
        }
        // transformers: cos = emb.cos() * attention_scaling, an f32 tensor times a Python float.
        float scale = (float)AttentionFactor;
        Span<float> cos = stackalloc float[half], sin = stackalloc float[half];
        for (int t = 0; t < positions.Length; t++)
        {
            for (int i = 0; i < half; i++)
            {
                // transformers multiplies in f32 (inv_freq · position) then takes cos/sin.
                float angle = invFreq[i] * positions[t];
                cos[i] = MathF.Cos(angle) * scale;
                sin[i] = MathF.Sin(angle) * scale;
            }
            Span<float> row = data.Slice(t * rowStride, columns);
            for (int h = 0; h < columns; h += HeadDim) RopeRotation.Rotate(row.Slice(h, HeadDim), cos, sin, vectorized);
        }
    }

    // ---- inv_freq per variant (transformers 5.17 modeling_rope_utils.py) ----

    /// <summary>The f32 exponent <c>arange(0, dim, 2).float() / dim</c>.</summary>
    private float Exponent(int i) => (float)(2 * i) / RotaryDim;

    /// <summary><c>1.0 / (base ** (arange(0, dim, 2).float() / dim))</c> with an f32 base.</summary>
    private float[] DefaultInvFreq(float @base)
    {
        var inv = new float[RotaryDim / 2];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1f / MathF.Pow(@base, Exponent(i));
        return inv;
    }

    /// <summary>
    /// _compute_dynamic_ntk_parameters with seq_len the 0-d int64 tensor <c>max(position_ids) + 1</c> that
    /// dynamic_rope_update passes: so <c>factor · seq_len / max − (factor − 1)</c>, its power and the new base are f32
    /// tensor ops, and the base is then raised in f32.
    /// </summary>
    private float[] DynamicInvFreq(int seqLen)
    {
        int dim = RotaryDim;
        double factor = _scaling.Factor!.Value;
        float ratio = (float)factor * seqLen / _maxPositions - (float)(factor - 1);
        float @base = _theta * MathF.Pow(ratio, (float)((double)dim / (dim - 2)));
        return DefaultInvFreq(@base);
    }

    /// <summary>_compute_llama3_parameters: wavelengths past original/low_freq_factor are divided by factor, those under
    /// original/high_freq_factor kept, the band between blended by <c>smooth = (original/wavelen − low)/(high − low)</c>.</summary>
    private float[] Llama3InvFreq()
    {
        float[] inv = DefaultInvFreq(_theta);
        float factor = (float)_scaling.Factor!.Value;
        double low = _scaling.LowFreqFactor!.Value, high = _scaling.HighFreqFactor!.Value;
        double oldContext = _scaling.OriginalMaxPositionEmbeddings ?? _maxPositions;
        float lowFreqWavelen = (float)(oldContext / low), highFreqWavelen = (float)(oldContext / high);
        for (int i = 0; i < inv.Length; i++)
        {
            // torch's scalar / tensor is reciprocal(tensor) * scalar.
            float wavelen = 1f / inv[i] * (float)(2 * Math.PI);
            float llama = wavelen > lowFreqWavelen ? inv[i] / factor : inv[i];
            float smooth = (1f / wavelen * (float)oldContext - (float)low) / (float)(high - low);
            float smoothed = (1f - smooth) * llama / factor + smooth * llama;
            bool medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            inv[i] = medium ? smoothed : llama;
        }
        return inv;
    }

    /// <summary>_compute_yarn_parameters: returns inv_freq and the attention factor.</summary>
    private (float[] InvFreq, double Attention) YarnInvFreq()
    {
        RopeScaling s = _scaling;
        int dim = RotaryDim;
        double original = s.OriginalMaxPositionEmbeddings ?? _maxPositions;
        double factor = s.Factor ?? _maxPositions / original;
        static double MScale(double scale, double m = 1) => scale <= 1 ? 1.0 : 0.1 * m * Math.Log(scale) + 1.0;
        double attention = s.AttentionFactor
            ?? (s.Mscale is double ms && ms != 0 && s.MscaleAllDim is double msa && msa != 0
                ? MScale(factor, ms) / MScale(factor, msa)
                : MScale(factor));
        // `rope_parameters.get("beta_fast") or 32`: absent or 0 → default.
        double betaFast = s.BetaFast is double bf && bf != 0 ? bf : 32;
        double betaSlow = s.BetaSlow is double bs && bs != 0 ? bs : 1;
        double theta = _theta;
        double CorrectionDim(double rotations) => dim * Math.Log(original / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
        double low = CorrectionDim(betaFast), high = CorrectionDim(betaSlow);
        if (s.Truncate) { low = Math.Floor(low); high = Math.Ceiling(high); }
        low = Math.Max(low, 0);
        high = Math.Min(high, dim - 1);
        if (low == high) high += 0.001; // transformers: prevent singularity
        var inv = new float[dim / 2];
        for (int i = 0; i < inv.Length; i++)
        {
            float posFreq = MathF.Pow(_theta, Exponent(i));
            float extrapolation = 1f / posFreq;
            float interpolation = 1f / ((float)factor * posFreq);
            float ramp = Math.Clamp((i - (float)low) / (float)(high - low), 0f, 1f);
            float extrapolationFactor = 1f - ramp;
            inv[i] = interpolation * (1f - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
        return (inv, attention);
    }

    /// <summary>_compute_longrope_parameters: short and long inv_freq and the attention factor.</summary>
    private (float[] Short, float[] Long, double Attention) LongRopeInvFreq()
    {
        RopeScaling s = _scaling;
        int n = RotaryDim / 2;
        if (s.ShortFactor!.Count != n || s.LongFactor!.Count != n)
            throw new ArgumentException($"longrope short_factor ({s.ShortFactor.Count}) and long_factor ({s.LongFactor!.Count}) must have rotary_dim/2 = {n} entries", nameof(s));
        double original = s.OriginalMaxPositionEmbeddings ?? _maxPositions;
        double factor = s.Factor ?? _maxPositions / original;
        double attention = s.AttentionFactor ?? (factor <= 1.0 ? 1.0 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(original)));
        float[] Scaled(IReadOnlyList<double> ext)
        {
            var inv = new float[n];
            for (int i = 0; i < n; i++) inv[i] = 1f / ((float)ext[i] * MathF.Pow(_theta, Exponent(i)));
            return inv;
        }
        return (Scaled(s.ShortFactor), Scaled(s.LongFactor), attention);
    }
}
