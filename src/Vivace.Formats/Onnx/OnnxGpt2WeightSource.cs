using Vivace.Tensors;

namespace Vivace.Formats.Onnx;

/// <summary>
/// The weights of a GPT-2 ONNX export fused by ONNX Runtime's transformer optimizer (onnxruntime-genai's
/// <c>past.onnx</c>: EmbedLayerNormalization / Attention / SkipLayerNormalization / FastGelu) under the complete set
/// of HF GPT-2 names, in HF layouts (Conv1D weights <c>[in, out]</c> as stored; <c>lm_head.weight</c> <c>[vocab, hidden]</c>).
/// Names are recovered from the graph by <see cref="OnnxGpt2Naming"/>, so deduplicated initializers serve every name
/// that shares them and a dropped bias reads as zeros. Tensor data is decoded on each <see cref="Get"/>.
/// </summary>
public sealed class OnnxGpt2WeightSource : IWeightSource
{
    private readonly OnnxGraphIndex _graph;
    private readonly Dictionary<string, OnnxGpt2Ref> _weights;
    private readonly string[] _names;

    public string FilePath { get; }

    private OnnxGpt2WeightSource(string file, OnnxModelProto model, string? baseDir)
    {
        FilePath = file;
        _graph = new OnnxGraphIndex(model.Graph!, file, baseDir);
        _weights = OnnxGpt2Naming.Recover(_graph);
        _names = [.. _weights.Keys];
        foreach (OnnxGpt2Ref w in _weights.Values)
            if (w.Initializer is { } t) OnnxTensorData.ShapeOf(t, file); // dims are validated up front; data on each read
    }

    /// <summary>Reads <paramref name="path"/> (external data is looked up beside it).</summary>
    public static OnnxGpt2WeightSource Open(string path)
    {
        path = Path.GetFullPath(path);
        return new OnnxGpt2WeightSource(path, OnnxModelFile.Load(path), Path.GetDirectoryName(path));
    }

    /// <summary>Whether <paramref name="path"/> is an ONNX Runtime-fused GPT-2 export this adapter reads.</summary>
    public static bool IsFusedGpt2(string path)
    {
        path = Path.GetFullPath(path);
        var graph = new OnnxGraphIndex(OnnxModelFile.Load(path).Graph!, path, Path.GetDirectoryName(path));
        return graph.NodesOf("EmbedLayerNormalization").Any() && graph.NodesOf("Attention").Any()
            && graph.NodesOf("Attention").All(OnnxGpt2Naming.IsCausal);
    }

    public IReadOnlyCollection<string> Names => _names;

    public bool Contains(string name) => _weights.ContainsKey(name);

    /// <summary>The ONNX initializer an HF name was found in (e.g. <c>transformer.h.0.ln_1.weight</c> for
    /// <c>transformer.ln_f.weight</c>), or null for a bias the export dropped (zeros).</summary>
    public string? SourceName(string name) => Ref(name).Initializer?.Name;

    public WeightInfo GetInfo(string name)
    {
        OnnxGpt2Ref w = Ref(name);
        if (w.Initializer is not { } t) return new WeightInfo(name, "FLOAT", DType.F32, new Shape(w.ZeroLength));
        Shape s = OnnxTensorData.ShapeOf(t, FilePath);
        if (w.Transposed) s = new Shape(s[1], s[0]);
        return new WeightInfo(name, OnnxTensorData.TypeName(t.DataType), DType.F32, s);
    }

    public Tensor Get(string name)
    {
        OnnxGpt2Ref w = Ref(name);
        if (w.Initializer is not { } t) return Tensor.Zeros(w.ZeroLength).WithName(name);
        var (kind, bytes, shape) = OnnxTensorData.Read(t, FilePath, _graph.BaseDir);
        Tensor f = kind.DecodeF32(bytes, shape, name);
        return w.Transposed ? f.TransposeLastTwo().WithName(name) : f;
    }

    public string Describe() => $"onnx (ORT-fused GPT-2) {FilePath} ({_names.Length} tensors)";

    public override string ToString() => Describe();

    private OnnxGpt2Ref Ref(string name) =>
        _weights.TryGetValue(name, out OnnxGpt2Ref? w) ? w
        : throw new ModelFormatException(FilePath, name, "no GPT-2 weight of that name was found in the ONNX graph");

    public void Dispose()
    {
    }
}
