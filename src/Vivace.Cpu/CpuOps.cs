using System.Runtime.CompilerServices;
using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>
/// The CPU backend of <see cref="ITensorOps"/>. Validates shapes at the boundary, then hands contiguous spans
/// to the kernels. Thread-safe for concurrent calls on different tensors.
/// </summary>
[SkipLocalsInit]
public sealed partial class CpuOps : ITensorOps, IDisposable
{
    private static readonly Lazy<CpuOps> SharedInstance = new(() => new CpuOps());

    /// <summary>A shared instance using every core.</summary>
    public static CpuOps Default => SharedInstance.Value;

    /// <summary>Uses every core.</summary>
    public CpuOps() : this(Environment.ProcessorCount) { }

    /// <summary>Uses <paramref name="threadCount"/> threads (the calling thread included) on the widest supported path.</summary>
    public CpuOps(int threadCount) : this(threadCount, KernelPaths.Best) { }

    /// <summary>Uses <paramref name="threadCount"/> threads and forces the kernels onto <paramref name="path"/> (tests, benchmarks).</summary>
    public CpuOps(int threadCount, KernelPath path)
    {
        if (threadCount < 1) throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "thread count must be at least 1");
        if (!KernelPaths.IsSupported(path)) throw new PlatformNotSupportedException($"kernel path {path} is not supported on this machine");
        ThreadCount = threadCount;
        Path = path;
        _pool = threadCount > 1 ? new WorkerPool(threadCount) : null;
    }

    private readonly WorkerPool? _pool;

    /// <summary>Threads a call may use, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>The instruction-set path every kernel of this instance takes.</summary>
    public KernelPath Path { get; }

    /// <summary>Stops the worker threads. The shared <see cref="Default"/> is never disposed.</summary>
    public void Dispose()
    {
        if (SharedInstance.IsValueCreated && ReferenceEquals(this, SharedInstance.Value)) return;
        _pool?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The workers root only the pool, never this instance: an instance nobody disposed still stops them.</summary>
    ~CpuOps() => _pool?.Dispose();

    /// <summary>
    /// Int8 on a VNNI CPU (<see cref="Int8UsesVnni"/>): <see cref="PrepareLinear"/> quantizes every linear layer (as
    /// <see cref="PrepareLinearInt8"/>) with a scale per output channel and group of <see cref="Int8GroupSize"/> k, and
    /// the activations per row and group. One scale per whole channel and row, as the issue first asked, costs too much
    /// accuracy — measured on all-MiniLM-L6-v2 (LowPrecisionEmbeddingTests: worst per-line cosine to f32 over 400 corpus
    /// lines, bar 0.995): per channel with the FFN's down projection left f32 gives 0.9953, with it int8 0.993 (16-bit
    /// activations there: 0.991); groups of 256 / 192 / 128 / 64 / 32 over every layer give 0.9950 / 0.9964 / 0.9973 /
    /// 0.9980 / 0.9988. 128 keeps a margin, and the per-group f32 sums cost one pass over the tile per 32 k-groups.
    /// Without VNNI (<see cref="Int8UsesVnni"/> false) non-contracting layers (in ≤ out) become Q8_0 blocks instead and
    /// contracting ones (the FFN's down projection) stay f32. Embeddings, norms, attention: f32.
    /// Q8_0 / Q4_0: every linear layer whose input width is a multiple of 32 is quantized with ggml's reference
    /// quantizer into <see cref="Quantized.BlockLinearWeight"/> (what <c>--quantize q8_0</c> does to an HF checkpoint).
    /// </summary>
    public LinearPrecision LinearPrecision { get; init; } = LinearPrecision.F32;

    public ILinearWeight PrepareLinear(Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (LinearPrecision == LinearPrecision.Int8 && weight.Rank == 2 && Int8UsesVnni)
            return PrepareLinearInt8(weight, bias, Int8GroupSize);
        if (LinearPrecision == LinearPrecision.Int8 && weight.Rank == 2 && weight.Shape[1] <= weight.Shape[0])
        {
            // Without VNNI the int8 layout has only the managed integer path, far slower than f32 (u8·s8 pairs overflow
            // vpmaddubsw's int16 sums); Q8_0 blocks multiply with it safely (both sides within ±127), so int8 layers
            // take that form there.
            if (weight.Shape[1] % BlockQuantization.BlockSize != 0) return PrepareLinearInt8(weight, bias);
            return PrepareLinear(QuantizedMatrix.Quantize(weight, BlockFormat.Q8_0), bias);
        }
        // Q8_0 / Q4_0: every layer whose rows cut into whole blocks, with the reference (ggml) quantizer.
        if (BlockPrecision is BlockFormat format && weight.Rank == 2 && weight.Shape[1] % BlockQuantization.BlockSize == 0)
            return PrepareLinear(QuantizedMatrix.Quantize(weight, format), bias);
        if (weight.Rank != 2)
            throw new ArgumentException($"linear weight {weight.Name ?? ""} must be [out, in], got {weight.Shape}", nameof(weight));
        int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outFeatures))
            throw new ArgumentException($"bias {bias.Name ?? ""} must be [{outFeatures}] for weight {weight.Name ?? ""} {weight.Shape}, got {bias.Shape}", nameof(bias));
        ReadOnlySpan<float> biasValues = bias is null ? default : bias.ToF32().AsSpan();
        // bf16: a bf16 checkpoint's weights stay bf16 (widening them later is exact, so results equal an f32 copy's);
        // LinearPrecision.BF16 rounds f32 weights to bf16 as well.
        if (weight.DType == DType.BF16 && weight.IsContiguous)
            return new PackedLinearWeight(weight.Span<ushort>(), outFeatures, inFeatures, biasValues, bias is not null, weight.Name);
        if (LinearPrecision == LinearPrecision.BF16 && Bf16UsesDotProducts)
            return new Bf16.Bf16DotLinearWeight(weight, biasValues, weight.Name);
        if (LinearPrecision == LinearPrecision.BF16)
        {
            ReadOnlySpan<float> values = weight.ToF32().AsSpan();
            var rounded = new ushort[values.Length];
            for (int i = 0; i < values.Length; i++) rounded[i] = NumericConversions.SingleToBFloat16(values[i]);
            return new PackedLinearWeight(rounded, outFeatures, inFeatures, biasValues, bias is not null, weight.Name);
        }
        return new PackedLinearWeight(weight.ToF32().AsSpan(), outFeatures, inFeatures, biasValues, bias is not null, weight.Name);
    }

    /// <summary>
    /// Prepares an int8 linear layer (symmetric weights per output channel, activations quantized per row at run time;
    /// see <see cref="Int8.Int8LinearWeight"/>): <see cref="Linear"/> then runs the VNNI kernel where the CPU has it.
    /// <paramref name="groupSize"/>: a weight scale per that many k of each channel (a multiple of 4), 0 for one per channel.
    /// </summary>
    public ILinearWeight PrepareLinearInt8(Tensor weight, Tensor? bias, int groupSize = 0)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"linear weight {weight.Name ?? ""} must be [out, in], got {weight.Shape}", nameof(weight));
        int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outFeatures))
            throw new ArgumentException($"bias {bias.Name ?? ""} must be [{outFeatures}] for weight {weight.Name ?? ""} {weight.Shape}, got {bias.Shape}", nameof(bias));
        return new Int8.Int8LinearWeight(weight.ToF32().AsSpan(), outFeatures, inFeatures, bias is null ? default : bias.ToF32().AsSpan(), weight.Name,
            groupSize);
    }

    /// <summary>
    /// Whether <see cref="LinearPrecision.BF16"/> layers run on the emitted AVX512-BF16 kernel (activations rounded to bf16,
    /// twice an f32 FMA's multiply-adds per instruction); false: bf16 weights widened for the f32 tiles (f32 activations).
    /// By default true where the kernel exists and outruns f32 FMAs (<see cref="Jit.CpuFeatures.PrefersBf16DotProducts"/>).
    /// </summary>
    public bool Bf16UsesDotProducts { get; init; } = Jit.Bf16MicroKernel.IsSupported && Jit.CpuFeatures.PrefersBf16DotProducts;

    /// <summary>
    /// Whether <see cref="LinearPrecision.Int8"/> layers take the VNNI layout (<see cref="Int8.Int8LinearWeight"/>) and
    /// int8 layers run the emitted VNNI kernel — true where the CPU has VNNI. Set elsewhere, the managed kernel computes
    /// the same integers (slower than f32: for tests). False: the managed integer path for int8 layers, and Int8
    /// precision's non-contracting layers become Q8_0 blocks.
    /// </summary>
    public bool Int8UsesVnni { get; init; } = Jit.VnniMicroKernel.IsSupported;

    /// <summary>k per scale of <see cref="LinearPrecision.Int8"/> layers on the VNNI path (see <see cref="LinearPrecision"/>).</summary>
    public const int Int8GroupSize = 128;

    public unsafe void Linear(Tensor input, ILinearWeight weight, Tensor output, Activation activation = Activation.None)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        if (weight is not (PackedLinearWeight or Int8.Int8LinearWeight or Quantized.BlockLinearWeight or Bf16.Bf16DotLinearWeight))
            throw new ArgumentException($"weight {weight?.Name ?? ""} was not prepared by CpuOps.PrepareLinear", nameof(weight));
        RequireF32Matrix(input, nameof(input));
        RequireF32Matrix(output, nameof(output));
        int rows = input.Shape[0];
        if (input.Shape[1] != weight.InFeatures)
            throw new ArgumentException($"input {input.Shape} has {input.Shape[1]} features but weight {weight.Name ?? ""} expects {weight.InFeatures}", nameof(input));
        if (output.Shape[0] != rows || output.Shape[1] != weight.OutFeatures)
            throw new ArgumentException($"output must be [{rows}, {weight.OutFeatures}] for input {input.Shape} and weight {weight.Name ?? ""}, got {output.Shape}", nameof(output));
        RequireKnownActivation(activation);
        // The int8 path quantizes all of its input before writing any output, so only it may run in place.
        if (weight is not Int8.Int8LinearWeight && rows > 0 && input.AsSpan().Overlaps(output.AsSpan()))
            throw new ArgumentException($"Linear output {output.Shape} overlaps its input {input.Shape}: rows are read while others are written", nameof(output));
        if (weight is PackedLinearWeight packed)
        {
            // The f32/bf16 GEMM applies the activation in its epilogue.
            LinearCore(input.AsSpan(), packed, output.AsSpan(), rows, activation);
            return;
        }
        fixed (float* x = input.AsSpan())
        fixed (float* y = output.AsSpan())
        {
            switch (weight)
            {
                case Bf16.Bf16DotLinearWeight bf16Dot: Bf16.Bf16DotGemm.Run(_pool, x, rows, bf16Dot, y); break;
                case Int8.Int8LinearWeight int8: Int8.Int8Gemm.Run(_pool, x, rows, int8, y, Int8UsesVnni && Jit.VnniMicroKernel.IsSupported); break;
                case Quantized.BlockLinearWeight blocks: Quantized.BlockGemm.Run(Path, _pool, x, rows, blocks, y); break;
            }
        }
        if (activation != Activation.None) Activate(output, activation);
    }

    public void LayerNorm(Tensor input, Tensor? residual, Tensor gamma, Tensor beta, float epsilon, Tensor output, Tensor? sum = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(gamma);
        ArgumentNullException.ThrowIfNull(beta);
        ArgumentNullException.ThrowIfNull(output);
        int features = CheckRowNormOperands("layer norm", input, residual, output, sum);
        RequireF32Contiguous(gamma, nameof(gamma));
        RequireF32Contiguous(beta, nameof(beta));
        if (gamma.ElementCount != features || beta.ElementCount != features)
            throw new ArgumentException($"layer norm gamma {gamma.Shape} and beta {beta.Shape} must hold {features} values (the last axis of {input.Shape})");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be >= 0");
        int rows = features == 0 ? 0 : checked((int)(input.ElementCount / features));
        LayerNormCore(input.AsSpan(), residual is null ? default : residual.AsSpan(), residual is not null,
            gamma.AsSpan(), beta.AsSpan(), epsilon, output.AsSpan(), sum is null ? default : sum.AsSpan(), sum is not null, rows, features);
    }

    /// <summary>
    /// The operands LayerNorm and RmsNorm share: input f32, contiguous, rank ≥ 1; output, residual and sum of its shape;
    /// sum clear of output (the later passes read the summed row back while rewriting the output). Returns the features
    /// (last axis).
    /// </summary>
    private static int CheckRowNormOperands(string op, Tensor input, Tensor? residual, Tensor output, Tensor? sum)
    {
        RequireF32Contiguous(input, nameof(input));
        RequireF32Contiguous(output, nameof(output));
        if (input.Rank < 1) throw new ArgumentException($"{op} input must have rank >= 1, got {input.Shape}", nameof(input));
        if (output.Shape != input.Shape)
            throw new ArgumentException($"{op} output {output.Shape} must match input {input.Shape}", nameof(output));
        if (residual is not null)
        {
            RequireF32Contiguous(residual, nameof(residual));
            if (residual.Shape != input.Shape)
                throw new ArgumentException($"{op} residual {residual.Shape} must match input {input.Shape}", nameof(residual));
        }
        if (sum is not null)
        {
            RequireF32Contiguous(sum, nameof(sum));
            if (sum.Shape != input.Shape)
                throw new ArgumentException($"{op} sum {sum.Shape} must match input {input.Shape}", nameof(sum));
            if (sum.ElementCount > 0 && sum.AsSpan().Overlaps(output.AsSpan()))
                throw new ArgumentException($"{op} sum {sum.Shape} overlaps its output", nameof(sum));
        }
        return input.Shape[-1];
    }

    public void Activate(Tensor x, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireF32Contiguous(x, nameof(x));
        RequireKnownActivation(activation);
        ActivateCore(x.AsSpan(), activation);
    }

    public void Add(Tensor x, Tensor addend)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(addend);
        RequireF32Contiguous(x, nameof(x));
        RequireF32Contiguous(addend, nameof(addend));
        if (x.Shape != addend.Shape)
            throw new ArgumentException($"Add needs equal shapes, got {x.Shape} and {addend.Shape}", nameof(addend));
        AddCore(x.AsSpan(), addend.AsSpan());
    }

    public void Gather(Tensor table, ReadOnlySpan<int> ids, Tensor output, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(output);
        RequireF32Matrix(table, nameof(table));
        RequireF32Matrix(output, nameof(output));
        int vocab = table.Shape[0], dim = table.Shape[1];
        if (output.Shape[0] != ids.Length || output.Shape[1] != dim)
            throw new ArgumentException($"gather output must be [{ids.Length}, {dim}] for {ids.Length} ids and table {table.Shape}, got {output.Shape}", nameof(output));
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(ids), ids[i],
                    $"id {ids[i]} at position {i} is outside table {table.Name ?? ""} of {vocab} rows");
        }
        GatherCore(table.AsSpan(), ids, output.AsSpan(), dim, accumulate);
    }

    public void Attention(Tensor query, Tensor key, Tensor value, Tensor output, RaggedBatch batch, int heads, float scale,
        IReadOnlyList<Tensor>? bias = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(batch);
        RequireF32Matrix(query, nameof(query));
        if (heads < 1) throw new ArgumentOutOfRangeException(nameof(heads), heads, "heads must be at least 1");
        int tokens = query.Shape[0], width = query.Shape[1];
        if (width % heads != 0)
            throw new ArgumentException($"query width {width} is not a multiple of {heads} heads", nameof(query));
        if (tokens != batch.TotalTokens)
            throw new ArgumentException($"query has {tokens} tokens but the batch holds {batch.TotalTokens}", nameof(query));
        RequireSameMatrixShape(key, query, nameof(key));
        RequireSameMatrixShape(value, query, nameof(value));
        RequireSameMatrixShape(output, query, nameof(output));
        RequireAttentionBias(bias, batch, heads);
        AttentionCore(query, key, value, output, batch, heads, width / heads, scale, bias);
    }

    public void FusedAttention(Tensor queryKeyValue, Tensor output, RaggedBatch batch, int heads, float scale, IReadOnlyList<Tensor>? bias = null)
    {
        ArgumentNullException.ThrowIfNull(queryKeyValue);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(batch);
        RequireF32Matrix(queryKeyValue, nameof(queryKeyValue));
        RequireF32Matrix(output, nameof(output));
        if (heads < 1) throw new ArgumentOutOfRangeException(nameof(heads), heads, "heads must be at least 1");
        int tokens = output.Shape[0], width = output.Shape[1];
        if (width % heads != 0)
            throw new ArgumentException($"output width {width} is not a multiple of {heads} heads", nameof(output));
        if (tokens != batch.TotalTokens)
            throw new ArgumentException($"output has {tokens} tokens but the batch holds {batch.TotalTokens}", nameof(output));
        if (queryKeyValue.Shape != new Shape(tokens, 3 * width))
            throw new ArgumentException($"packed query|key|value must be [{tokens}, {3 * width}], got {queryKeyValue.Shape}", nameof(queryKeyValue));
        RequireAttentionBias(bias, batch, heads);
        FusedAttentionCore(queryKeyValue, output, batch, heads, width / heads, scale, bias);
    }

    private static void RequireAttentionBias(IReadOnlyList<Tensor>? bias, RaggedBatch batch, int heads)
    {
        if (bias is null) return;
        if (bias.Count != batch.Count)
            throw new ArgumentException($"attention bias has {bias.Count} tensors for {batch.Count} sequences", nameof(bias));
        for (int s = 0; s < bias.Count; s++)
        {
            int len = batch.Length(s);
            Tensor b = bias[s] ?? throw new ArgumentException($"attention bias for sequence {s} is null", nameof(bias));
            RequireF32Contiguous(b, nameof(bias));
            if (b.Rank != 3 || b.Shape[0] != heads || b.Shape[1] != len || b.Shape[2] != len)
                throw new ArgumentException($"attention bias for sequence {s} must be [{heads}, {len}, {len}], got {b.Shape}", nameof(bias));
        }
    }

    private static void RequireF32Contiguous(Tensor t, string name)
    {
        if (t.DType != DType.F32) throw new ArgumentException($"{name} {t.Name ?? ""} {t.Shape} must be F32, got {t.DType}", name);
        if (!t.IsContiguous) throw new ArgumentException($"{name} {t.Name ?? ""} {t.Shape} must be contiguous", name);
    }

    private static void RequireF32Matrix(Tensor t, string name)
    {
        RequireF32Contiguous(t, name);
        if (t.Rank != 2) throw new ArgumentException($"{name} {t.Name ?? ""} must be rank 2 [rows, features], got {t.Shape}", name);
    }

    private static void RequireSameMatrixShape(Tensor t, Tensor query, string name)
    {
        RequireF32Matrix(t, name);
        if (t.Shape != query.Shape)
            throw new ArgumentException($"attention {name} {t.Shape} must match query {query.Shape}", name);
    }

    private static void RequireKnownActivation(Activation activation)
    {
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation");
    }
}
