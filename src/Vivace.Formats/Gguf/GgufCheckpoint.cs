using Vivace.Tensors;

namespace Vivace.Formats.Gguf;

/// <summary>
/// A GGUF file of llama.cpp's "llama", "qwen2" or "gpt2" architecture as an <see cref="IWeightSource"/> under HF names
/// and layouts (Llama's, or GPT-2's with its Conv1D matrices transposed back), plus the equivalent HF <c>config.json</c>
/// in <see cref="Config"/>, so the models load it like any HF checkpoint (the same way
/// <see cref="Llama2c.Llama2cCheckpoint"/> exposes llama2.c files).
/// <para>RoPE: for "llama", llama.cpp's converter reorders the q/k rows of each head to interleaved pairs (GGUF row
/// 2i + j is HF row j·headDim/2 + i); the rows are put back in HF order on every read, for float and block-quantized
/// tensors alike (see <see cref="RopeRowOrder"/>). "qwen2" keeps HF's order (llama.cpp rotates halves there).</para>
/// <see cref="Get"/> returns f32 (blocks dequantized); <see cref="GetQuantized"/> keeps Q8_0/Q4_0 blocks as stored.
/// </summary>
public sealed class GgufCheckpoint : IWeightSource
{
    /// <summary>Where one HF-named tensor lies, the head size its rows are RoPE-permuted by (0: not permuted), and whether
    /// HF holds it transposed (GPT-2's Conv1D <c>[in, out]</c>).</summary>
    private sealed record Entry(GgufTensorInfo Tensor, int RopeHeadSize, Shape Shape, bool Transposed = false);

    private readonly GgufFile _file;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly string[] _names;
    private readonly string _architecture;

    public string FilePath => _file.FilePath;

    /// <summary>The underlying file (tensor infos in GGUF names, alignment, version).</summary>
    public GgufFile File => _file;

    /// <summary>Every metadata key/value of the file (the tokenizer's <c>tokenizer.ggml.*</c> among them).</summary>
    public IReadOnlyDictionary<string, object> Metadata => _file.Metadata;

    /// <summary>The HF config.json equivalent to the file's <c>{arch}.*</c> metadata.</summary>
    public HfConfig Config { get; }

    private GgufCheckpoint(GgufFile file)
    {
        _file = file;
        _architecture = file.GetString("general.architecture")
            ?? throw new ModelFormatException(file.FilePath, "general.architecture", "required key is missing");
        Config = _architecture == "gpt2" ? ReadGpt2() : ReadLlamaShaped();
        _names = [.. _entries.Keys];
    }

    /// <summary>gpt2: the Conv1D matrices listed in HF's <c>[in, out]</c> shape (read back transposed).</summary>
    private HfConfig ReadGpt2()
    {
        Gpt2GgufConfig gpt2 = Gpt2GgufConfig.Read(_file);
        foreach (GgufTensorInfo t in _file.Tensors)
        {
            string hf = GgufGpt2Names.ToHf(t.Name)
                ?? throw new ModelFormatException(_file.FilePath, t.Name, "tensor has no HF GPT-2 equivalent (not a plain gpt2-architecture file?)");
            Shape shape = ShapeOf(t);
            bool conv1D = GgufGpt2Names.IsConv1D(hf);
            if (conv1D && shape.Rank != 2) throw new ModelFormatException(_file.FilePath, t.Name, $"expected a matrix, got {shape}");
            _entries.Add(hf, new Entry(t, 0, conv1D ? new Shape([shape[1], shape[0]]) : shape, conv1D));
        }
        Shape embed = RequireEmbedding("transformer.wte.weight", "token_embd.weight", gpt2.Hidden);
        return gpt2.ToHfConfig(_file, vocab: embed[0], tied: !_entries.ContainsKey("lm_head.weight"));
    }

    /// <summary>llama and qwen2: q/k rows put back in HF order where llama.cpp interleaved them; rope_freqs.weight becomes
    /// the config's per-frequency RoPE divisors.</summary>
    private HfConfig ReadLlamaShaped()
    {
        LlamaGgufConfig config = LlamaGgufConfig.Read(_file);
        foreach (GgufTensorInfo t in _file.Tensors)
        {
            if (t.Name == "rope_freqs.weight")
            {
                config = config with { RopeFrequencyFactors = ReadRopeFrequencyFactors(t, config) };
                continue;
            }
            string hf = GgufLlamaNames.ToHf(t.Name)
                ?? throw new ModelFormatException(_file.FilePath, t.Name, $"tensor has no HF equivalent (not a plain {config.Architecture}-architecture file?)");
            int ropeHead = config.InterleavesRopeRows && GgufLlamaNames.IsRopeRows(hf, out _) ? config.HeadDim : 0;
            Shape shape = ShapeOf(t);
            if (ropeHead != 0 && shape[0] % ropeHead != 0)
                throw new ModelFormatException(_file.FilePath, t.Name, $"{shape[0]} rows do not split into heads of {ropeHead}");
            _entries.Add(hf, new Entry(t, ropeHead, shape));
        }
        Shape tokens = RequireEmbedding("model.embed_tokens.weight", "token_embd.weight", config.Hidden);
        return config.ToHfConfig(_file, vocab: tokens[0], tied: !_entries.ContainsKey("lm_head.weight"),
            attentionBias: _entries.ContainsKey("model.layers.0.self_attn.q_proj.bias"),
            mlpBias: _entries.ContainsKey("model.layers.0.mlp.gate_proj.bias"));
    }

    /// <summary>llama.cpp's per-frequency RoPE divisors (Llama 3.1's scaling, as its converter stores it): HeadDim/2 positive values.</summary>
    private float[] ReadRopeFrequencyFactors(GgufTensorInfo t, LlamaGgufConfig config)
    {
        if (config.RopeLinearFactor is not null)
            throw new ModelFormatException(_file.FilePath, t.Name, "per-frequency RoPE factors together with linear scaling are not supported");
        float[] factors = _file.ReadF32(t).AsSpan().ToArray();
        if (factors.Length != config.HeadDim / 2)
            throw new ModelFormatException(_file.FilePath, t.Name, $"{factors.Length} factors for a head of {config.HeadDim} (expected {config.HeadDim / 2})");
        if (factors.Any(f => !(f > 0) || float.IsInfinity(f)))
            throw new ModelFormatException(_file.FilePath, t.Name, "factors must be positive and finite");
        return factors;
    }

    private Shape ShapeOf(GgufTensorInfo t) => new([.. t.HfShape.Select(d => d > int.MaxValue
        ? throw new ModelFormatException(_file.FilePath, t.Name, $"dimension {d} is too large")
        : (int)d)]);

    private Shape RequireEmbedding(string hfName, string ggufName, int hidden)
    {
        if (!_entries.TryGetValue(hfName, out Entry? embed) || embed.Shape.Rank != 2)
            throw new ModelFormatException(_file.FilePath, ggufName, "missing or not a matrix");
        if (embed.Shape[1] != hidden)
            throw new ModelFormatException(_file.FilePath, ggufName, $"width {embed.Shape[1]} is not the embedding length {hidden}");
        return embed.Shape;
    }

    /// <summary>Opens a llama-, qwen2- or gpt2-architecture GGUF file; anything malformed or unsupported throws <see cref="ModelFormatException"/>.</summary>
    public static GgufCheckpoint Open(string path)
    {
        GgufFile file = GgufFile.Open(path);
        try { return new GgufCheckpoint(file); }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public IReadOnlyCollection<string> Names => _names;

    public bool Contains(string name) => _entries.ContainsKey(name);

    public WeightInfo GetInfo(string name)
    {
        Entry e = Find(name);
        DType? dtype = e.Tensor.Type switch
        {
            GgmlType.F32 => DType.F32,
            GgmlType.F16 => DType.F16,
            GgmlType.BF16 => DType.BF16,
            _ => null,
        };
        return new WeightInfo(name, e.Tensor.Type.Name(), dtype, e.Shape);
    }

    public Tensor Get(string name)
    {
        Entry e = Find(name);
        Tensor t = _file.ReadF32(e.Tensor);
        return (e.Transposed ? t.TransposeLastTwo() : Unpermute(e, t)).WithName(name);
    }

    /// <summary>As stored (f16/bf16 kept); a transposed Conv1D weight comes back in f32.</summary>
    public Tensor GetRaw(string name)
    {
        Entry e = Find(name);
        Tensor t = _file.ReadStored(e.Tensor);
        return (e.Transposed ? t.TransposeLastTwo() : Unpermute(e, t)).WithName(name);
    }

    /// <summary>Q8_0/Q4_0 blocks as stored (q/k rows back in HF order); null for float tensors and for Conv1D weights,
    /// whose HF layout runs across the blocks.</summary>
    public QuantizedMatrix? GetQuantized(string name)
    {
        Entry e = Find(name);
        if (e.Tensor.Type.BlockFormat() is null || e.Shape.Rank != 2 || e.Transposed) return null;
        QuantizedMatrix m = _file.ReadQuantized(e.Tensor);
        if (e.RopeHeadSize == 0) return new QuantizedMatrix(m.Format, m.Rows, m.Columns, m.Data, name);
        var rows = new byte[m.Data.Length];
        RopeRowOrder.InterleavedToHalves<byte>(m.Data, rows, m.Rows, m.RowBytes, e.RopeHeadSize);
        return new QuantizedMatrix(m.Format, m.Rows, m.Columns, rows, name);
    }

    /// <summary>Puts q/k rows back in HF order; a 1-D bias is a column of one-value rows.</summary>
    private static Tensor Unpermute(Entry e, Tensor t)
    {
        if (e.RopeHeadSize == 0) return t;
        int rows = e.Shape[0], rowLength = (int)(t.ElementCount / rows);
        switch (t.DType)
        {
            case DType.F32:
            {
                var r = Tensor.Zeros(DType.F32, e.Shape.Dims);
                RopeRowOrder.InterleavedToHalves<float>(t.Span<float>(), r.Span<float>(), rows, rowLength, e.RopeHeadSize);
                return r;
            }
            case DType.F16:
            {
                var r = Tensor.Zeros(DType.F16, e.Shape.Dims);
                RopeRowOrder.InterleavedToHalves<Half>(t.Span<Half>(), r.Span<Half>(), rows, rowLength, e.RopeHeadSize);
                return r;
            }
            case DType.BF16:
            {
                var r = Tensor.Zeros(DType.BF16, e.Shape.Dims);
                RopeRowOrder.InterleavedToHalves<ushort>(t.Span<ushort>(), r.Span<ushort>(), rows, rowLength, e.RopeHeadSize);
                return r;
            }
            default:
                throw new InvalidOperationException($"unexpected dtype {t.DType}");
        }
    }

    private Entry Find(string name) =>
        _entries.TryGetValue(name, out Entry? e) ? e
        : throw new ModelFormatException(FilePath, name, "no tensor of that name in the GGUF file");

    public string Describe() => $"GGUF {FilePath} ({_names.Length} tensors, {_architecture})";

    /// <summary>llama.cpp's architecture of the file: "llama", "qwen2" or "gpt2".</summary>
    public string Architecture => _architecture;

    public override string ToString() => Describe();

    public void Dispose() => _file.Dispose();
}
