using System.Text.RegularExpressions;

namespace Vivace.Formats.Onnx;

/// <summary>Where one HF-named weight lives in the ONNX file.</summary>
/// <param name="Initializer">The ONNX initializer holding it.</param>
/// <param name="Transposed">True when the initializer is the <c>[in, out]</c> transpose of the HF <c>[out, in]</c> weight.</param>
internal sealed record OnnxWeightRef(OnnxTensorProto Initializer, bool Transposed);

/// <summary>
/// Recovers HF parameter names for the initializers of a transformer export.
/// <list type="bullet">
/// <item>Initializers already named like HF parameters (dotted paths, float types) keep their names.</item>
/// <item>A Linear layer exported as <c>MatMul(x, W) → Add(·, X.bias)</c> (W anonymous like <c>927</c>, or named
/// like <c>X.weight_transposed</c>) gives <c>X.weight = Wᵀ</c>; <c>Gemm(x, W, X.bias)</c> gives <c>X.weight</c>
/// transposed or not according to <c>transB</c>. The names come from the graph, not from a table.</item>
/// <item>A base-model prefix (<c>bert.</c>, <c>roberta.</c>, ...: whatever precedes
/// <c>embeddings.word_embeddings.weight</c>) is stripped from the names that carry it, when asked.</item>
/// </list>
/// </summary>
internal static partial class OnnxWeightNaming
{
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")]
    private static partial Regex HfNamePattern();

    private const string WordEmbeddings = "embeddings.word_embeddings.weight";

    public static bool IsFloat(OnnxTensorProto t) => t.DataType is OnnxTensorData.Float or OnnxTensorData.Float16
        or OnnxTensorData.BFloat16 or OnnxTensorData.Double;

    public static (Dictionary<string, OnnxWeightRef> Weights, string? StrippedPrefix, List<string> Unmapped) Recover(
        OnnxGraphIndex g, bool stripBasePrefix)
    {
        var weights = new Dictionary<string, OnnxWeightRef>(StringComparer.Ordinal);
        var consumed = new HashSet<string>(StringComparer.Ordinal);

        foreach (OnnxNodeProto n in g.Graph.Nodes)
        {
            if (n.OpType == "MatMul" && n.Inputs.Count == 2 && n.Outputs.Count >= 1)
            {
                if (LinearWeight(g, n.Inputs[1]) is not { } w) continue;
                foreach (OnnxNodeProto add in g.Consumers(n.Outputs[0]))
                {
                    if (add.OpType != "Add" || add.Inputs.Count != 2) continue;
                    string other = add.Inputs[0] == n.Outputs[0] ? add.Inputs[1] : add.Inputs[0];
                    if (BiasPrefix(g, other, w.Dims[1]) is not { } prefix) continue;
                    if (weights.TryAdd(prefix + ".weight", new OnnxWeightRef(w, Transposed: true))) consumed.Add(w.Name);
                    break;
                }
            }
            else if (n.OpType == "Gemm" && n.Inputs.Count == 3)
            {
                if (LinearWeight(g, n.Inputs[1]) is not { } w) continue;
                bool transB = n.Attribute("transB")?.I == 1;
                bool transA = n.Attribute("transA")?.I == 1;
                if (transA) continue;
                if (BiasPrefix(g, n.Inputs[2], (int)(transB ? w.Dims[0] : w.Dims[1])) is not { } prefix) continue;
                if (weights.TryAdd(prefix + ".weight", new OnnxWeightRef(w, Transposed: !transB))) consumed.Add(w.Name);
            }
        }

        var unmapped = new List<string>();
        foreach (OnnxTensorProto t in g.Graph.Initializers)
        {
            if (consumed.Contains(t.Name)) continue;
            if (IsFloat(t) && HfNamePattern().IsMatch(t.Name)) weights.TryAdd(t.Name, new OnnxWeightRef(t, false));
            else unmapped.Add(t.Name);
        }

        string? prefix0 = null;
        if (stripBasePrefix && !weights.ContainsKey(WordEmbeddings))
        {
            prefix0 = weights.Keys.Where(k => k.EndsWith("." + WordEmbeddings, StringComparison.Ordinal))
                .Select(k => k[..^WordEmbeddings.Length]).OrderBy(k => k.Length).FirstOrDefault();
            if (prefix0 is not null)
            {
                var stripped = new Dictionary<string, OnnxWeightRef>(StringComparer.Ordinal);
                foreach (var (k, v) in weights)
                {
                    string name = k.StartsWith(prefix0, StringComparison.Ordinal) ? k[prefix0.Length..] : k;
                    if (!stripped.TryAdd(name, v))
                        throw new ModelFormatException(g.File, name, $"stripping the prefix '{prefix0}' makes two weights share this name");
                }
                weights = stripped;
            }
        }
        return (weights, prefix0, unmapped);
    }

    /// <summary>A rank-2 float initializer used as a Linear weight.</summary>
    private static OnnxTensorProto? LinearWeight(OnnxGraphIndex g, string value) =>
        g.Initializers.TryGetValue(value, out OnnxTensorProto? t) && t.Dims.Count == 2 && IsFloat(t) ? t : null;

    /// <summary>"X" when <paramref name="value"/> is a rank-1 float initializer named "X.bias" of length <paramref name="outFeatures"/>.</summary>
    private static string? BiasPrefix(OnnxGraphIndex g, string value, long outFeatures)
    {
        if (!value.EndsWith(".bias", StringComparison.Ordinal) || value.Length <= 5) return null;
        if (!g.Initializers.TryGetValue(value, out OnnxTensorProto? b) || !IsFloat(b)) return null;
        if (b.Dims.Count != 1 || b.Dims[0] != outFeatures) return null;
        return value[..^5];
    }
}
