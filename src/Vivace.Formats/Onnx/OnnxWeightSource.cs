using Vivace.Tensors;

namespace Vivace.Formats.Onnx;

/// <summary>How <see cref="OnnxWeightSource"/> names the weights it finds.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>Strip the base-model prefix (e.g. <c>bert.</c>) so names are those of the bare HF base model.</summary>
    public bool StripBasePrefix { get; init; } = true;
}

/// <summary>
/// The weights of an ONNX transformer export (BERT family) under HF names and in HF layouts, names recovered from
/// the graph (see <see cref="OnnxWeightNaming"/>). The whole protobuf is parsed on open; tensor data is decoded
/// (and transposed where the export stored <c>[in, out]</c>) on each <see cref="Get"/>.
/// </summary>
public sealed class OnnxWeightSource : IWeightSource
{
    private readonly OnnxGraphIndex _graph;
    private readonly Dictionary<string, OnnxWeightRef> _weights;
    private readonly string[] _names;

    /// <summary>The model file (or the label given for bytes).</summary>
    public string FilePath { get; }

    /// <summary>The prefix stripped from HF names (e.g. "bert."), or null.</summary>
    public string? StrippedPrefix { get; }

    /// <summary>Initializers given no HF name (integer buffers, shape constants, unattributable matrices).</summary>
    public IReadOnlyList<string> UnmappedInitializers { get; }

    /// <summary>Producer recorded in the file (e.g. "pytorch 1.10").</summary>
    public string Producer { get; }

    private OnnxWeightSource(string file, OnnxModelProto model, string? baseDir, OnnxImportOptions options)
    {
        FilePath = file;
        Producer = $"{model.ProducerName} {model.ProducerVersion}".Trim();
        _graph = new OnnxGraphIndex(model.Graph!, file, baseDir);
        (_weights, StrippedPrefix, List<string> unmapped) = OnnxWeightNaming.Recover(_graph, options.StripBasePrefix);
        UnmappedInitializers = unmapped;
        _names = [.. _weights.Keys];
        foreach (OnnxWeightRef w in _weights.Values)
            OnnxTensorData.ShapeOf(w.Initializer, file); // dims are validated up front; data on each read
    }

    /// <summary>Reads <paramref name="path"/> (external data is looked up beside it).</summary>
    public static OnnxWeightSource Open(string path, OnnxImportOptions? options = null)
    {
        path = Path.GetFullPath(path);
        return new OnnxWeightSource(path, OnnxModelFile.Load(path), Path.GetDirectoryName(path), options ?? new());
    }

    /// <summary>Reads a model held in memory; <paramref name="sourceName"/> names it in errors.</summary>
    public static OnnxWeightSource FromBytes(byte[] bytes, string sourceName, string? baseDir = null, OnnxImportOptions? options = null) =>
        new(sourceName, OnnxModelFile.Parse(bytes, sourceName), baseDir, options ?? new());

    public IReadOnlyCollection<string> Names => _names;

    public bool Contains(string name) => _weights.ContainsKey(name);

    /// <summary>The ONNX initializer an HF name was found in, e.g. "927" for a query weight.</summary>
    public string SourceName(string name) => Ref(name).Initializer.Name;

    /// <summary>Whether the HF tensor is the transpose of the stored initializer.</summary>
    public bool IsTransposed(string name) => Ref(name).Transposed;

    public WeightInfo GetInfo(string name)
    {
        OnnxWeightRef w = Ref(name);
        Shape s = OnnxTensorData.ShapeOf(w.Initializer, FilePath);
        if (w.Transposed) s = new Shape(s[1], s[0]);
        DType? dtype = w.Transposed ? DType.F32 : OnnxTensorData.KindOf(w.Initializer.DataType)?.ToDType() ?? DType.F32;
        return new WeightInfo(name, OnnxTensorData.TypeName(w.Initializer.DataType), dtype, s);
    }

    public Tensor Get(string name)
    {
        OnnxWeightRef w = Ref(name);
        var (kind, bytes, shape) = OnnxTensorData.Read(w.Initializer, FilePath, _graph.BaseDir);
        Tensor t = kind.DecodeF32(bytes, shape, name);
        return w.Transposed ? t.TransposeLastTwo().WithName(name) : t;
    }

    public Tensor GetRaw(string name)
    {
        OnnxWeightRef w = Ref(name);
        if (w.Transposed) return Get(name);
        var (kind, bytes, shape) = OnnxTensorData.Read(w.Initializer, FilePath, _graph.BaseDir);
        return kind.DecodeRaw(bytes, shape, name);
    }

    /// <summary>
    /// The <c>config.json</c> of a BERT model inferred from the weights and the graph, for exports that ship
    /// without one. Throws <see cref="ModelFormatException"/> when the export is not a BERT encoder.
    /// </summary>
    public HfConfig InferBertConfig() => BertConfigInference.Infer(this, _graph);

    public string Describe() =>
        $"onnx {FilePath} ({_names.Length} tensors{(StrippedPrefix is null ? "" : $", prefix '{StrippedPrefix}' stripped")})";

    public override string ToString() => Describe();

    private OnnxWeightRef Ref(string name) =>
        _weights.TryGetValue(name, out OnnxWeightRef? w) ? w
        : throw new ModelFormatException(FilePath, name, "no weight of that name was found in the ONNX graph");

    public void Dispose()
    {
    }
}
