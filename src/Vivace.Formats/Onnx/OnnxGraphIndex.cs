namespace Vivace.Formats.Onnx;

/// <summary>
/// Lookups over an ONNX graph: initializers by name, the node producing each value, the nodes consuming it,
/// and constant folding of the small integer / float values that describe shapes and scalars.
/// </summary>
internal sealed class OnnxGraphIndex
{
    private readonly Dictionary<string, OnnxNodeProto> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<OnnxNodeProto>> _consumers = new(StringComparer.Ordinal);

    public string File { get; }
    public string? BaseDir { get; }
    public OnnxGraphProto Graph { get; }
    public Dictionary<string, OnnxTensorProto> Initializers { get; } = new(StringComparer.Ordinal);

    public OnnxGraphIndex(OnnxGraphProto graph, string file, string? baseDir)
    {
        Graph = graph;
        File = file;
        BaseDir = baseDir;
        foreach (OnnxTensorProto t in graph.Initializers)
        {
            if (t.Name.Length == 0) throw new ModelFormatException(file, "graph.initializer", "an initializer has no name");
            if (!Initializers.TryAdd(t.Name, t))
                throw new ModelFormatException(file, t.Name, "two initializers have this name");
        }
        foreach (OnnxNodeProto n in graph.Nodes)
        {
            foreach (string o in n.Outputs)
                if (o.Length > 0) _producers.TryAdd(o, n);
            foreach (string i in n.Inputs)
            {
                if (i.Length == 0) continue;
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = [];
                list.Add(n);
            }
        }
    }

    public OnnxNodeProto? Producer(string value) => _producers.GetValueOrDefault(value);

    public IReadOnlyList<OnnxNodeProto> Consumers(string value) =>
        _consumers.TryGetValue(value, out var list) ? list : [];

    public IEnumerable<OnnxNodeProto> NodesOf(string opType) => Graph.Nodes.Where(n => n.OpType == opType);

    /// <summary>The tensor behind a value that is an initializer or a Constant node's <c>value</c>.</summary>
    public OnnxTensorProto? ConstantTensor(string value)
    {
        if (Initializers.TryGetValue(value, out OnnxTensorProto? t)) return t;
        OnnxNodeProto? p = Producer(value);
        if (p is { OpType: "Constant" } && p.Attribute("value")?.T is { } ct) return ct;
        return null;
    }

    /// <summary>A constant's values as floats (initializer, Constant value / value_float / value_floats), or null.</summary>
    public float[]? ConstFloats(string value)
    {
        if (ConstantTensor(value) is { } t) return Try(() => OnnxTensorData.ToFloats(t, File, BaseDir));
        OnnxNodeProto? p = Producer(value);
        if (p is { OpType: "Constant" })
        {
            if (p.Attribute("value_float") is { } f) return [f.F];
            if (p.Attribute("value_floats") is { } fs) return [.. fs.Floats];
            if (p.Attribute("value_int") is { } i) return [i.I];
            if (p.Attribute("value_ints") is { } @is) return [.. @is.Ints.Select(x => (float)x)];
        }
        if (p is { OpType: "Identity" or "Cast" } && p.Inputs.Count > 0) return ConstFloats(p.Inputs[0]);
        return null;
    }

    /// <summary>
    /// An integer vector that may be only partly constant: null entries are values computed at run time
    /// (e.g. the batch and sequence sizes of a head-splitting Reshape built with Shape → Gather → Unsqueeze → Concat).
    /// </summary>
    public long?[]? PartialInts(string value, int depth = 0)
    {
        if (depth > 8) return null;
        if (ConstantTensor(value) is { } t)
            return Try(() => OnnxTensorData.ToInt64s(t, File, BaseDir).Select(x => (long?)x).ToArray());
        OnnxNodeProto? p = Producer(value);
        if (p is null) return null;
        switch (p.OpType)
        {
            case "Constant":
                if (p.Attribute("value_int") is { } i) return [i.I];
                if (p.Attribute("value_ints") is { } @is) return [.. @is.Ints.Select(x => (long?)x)];
                return null;
            case "Identity" or "Cast" when p.Inputs.Count > 0:
                return PartialInts(p.Inputs[0], depth + 1);
            case "Unsqueeze" when p.Inputs.Count > 0:
                // A run-time scalar made a 1-vector.
                return PartialInts(p.Inputs[0], depth + 1) is { Length: 1 } inner ? inner : [null];
            case "Concat":
                var parts = new List<long?>();
                foreach (string input in p.Inputs)
                {
                    long?[]? part = PartialInts(input, depth + 1);
                    if (part is null) return null;
                    parts.AddRange(part);
                }
                return [.. parts];
            default:
                return null;
        }
    }

    private static T? Try<T>(Func<T> f) where T : class
    {
        try { return f(); }
        catch (ModelFormatException) { return null; }
    }
}
