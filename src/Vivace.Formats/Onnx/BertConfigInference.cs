using System.Text.RegularExpressions;

namespace Vivace.Formats.Onnx;

/// <summary>
/// Infers a BERT <c>config.json</c> from an ONNX export: sizes from weight shapes and names, the head count and
/// LayerNorm epsilon from the graph (the head-splitting Reshape's constant shape or the attention score scale;
/// a LayerNormalization epsilon attribute or the constant added to the variance in the decomposed form).
/// </summary>
internal static partial class BertConfigInference
{
    [GeneratedRegex(@"^encoder\.layer\.(\d+)\.")]
    private static partial Regex LayerPattern();

    public static HfConfig Infer(OnnxWeightSource w, OnnxGraphIndex g)
    {
        string file = w.FilePath;
        int[] word = Dims(w, "embeddings.word_embeddings.weight", 2);
        int hidden = word[1];
        int vocab = word[0];
        int maxPositions = Dims(w, "embeddings.position_embeddings.weight", 2)[0];
        int typeVocab = w.Contains("embeddings.token_type_embeddings.weight")
            ? Dims(w, "embeddings.token_type_embeddings.weight", 2)[0] : 2;

        var layers = w.Names.Select(n => LayerPattern().Match(n)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value)).Distinct().ToList();
        if (layers.Count == 0)
            throw new ModelFormatException(file, "encoder.layer.0", "cannot infer num_hidden_layers: no encoder.layer.N weights");
        int numLayers = layers.Max() + 1;
        if (layers.Count != numLayers)
            throw new ModelFormatException(file, "encoder.layer", $"layer indices are not contiguous: {string.Join(", ", layers.Order())}");

        int intermediate = w.Contains("encoder.layer.0.intermediate.dense.weight")
            ? Dims(w, "encoder.layer.0.intermediate.dense.weight", 2)[0]
            : Dims(w, "encoder.layer.0.intermediate.dense.bias", 1)[0];

        int heads = InferHeads(g, hidden)
            ?? throw new ModelFormatException(file, "num_attention_heads",
                "cannot infer the head count: no head-splitting Reshape, attention scale or num_heads attribute in the graph");
        float eps = InferLayerNormEpsilon(g)
            ?? throw new ModelFormatException(file, "layer_norm_eps", "cannot infer: no LayerNormalization or decomposed layer norm in the graph");

        var values = new List<KeyValuePair<string, object?>>
        {
            new("architectures", new[] { "BertModel" }),
            new("attention_probs_dropout_prob", 0.1),
            new("hidden_act", InferActivation(g)),
            new("hidden_dropout_prob", 0.1),
            new("hidden_size", hidden),
            new("initializer_range", 0.02),
            new("intermediate_size", intermediate),
            new("layer_norm_eps", eps),
            new("max_position_embeddings", maxPositions),
            new("model_type", "bert"),
            new("num_attention_heads", heads),
            new("num_hidden_layers", numLayers),
            new("pad_token_id", 0),
            new("position_embedding_type", "absolute"),
            new("type_vocab_size", typeVocab),
            new("use_cache", true),
            new("vocab_size", vocab),
        };
        return HfConfig.FromValues(values, file + " (inferred config.json)");
    }

    private static int[] Dims(OnnxWeightSource w, string name, int rank)
    {
        if (!w.Contains(name))
            throw new ModelFormatException(w.FilePath, name, "cannot infer the BERT config: weight not found");
        int[] dims = w.GetInfo(name).Shape.ToArray();
        if (dims.Length != rank)
            throw new ModelFormatException(w.FilePath, name, $"expected rank {rank}, got [{string.Join(", ", dims)}]");
        return dims;
    }

    /// <summary>The head count: a num_heads attribute, else the head-splitting Reshape, else the score scale.</summary>
    internal static int? InferHeads(OnnxGraphIndex g, int hidden)
    {
        foreach (OnnxNodeProto n in g.Graph.Nodes)
            if (n.Attribute("num_heads") is { I: > 0 } a && hidden % a.I == 0)
                return (int)a.I;

        // Reshape(x, [batch, seq, heads, head_dim]) with heads·head_dim = hidden.
        var votes = new Dictionary<int, int>();
        foreach (OnnxNodeProto n in g.NodesOf("Reshape"))
        {
            if (n.Inputs.Count < 2 || g.PartialInts(n.Inputs[1]) is not { Length: 4 } s) continue;
            if (s[2] is not long h || h <= 1 || h > hidden) continue;
            if (s[3] is long d ? (d > 0 && h * d == hidden) : hidden % h == 0)
                votes[(int)h] = votes.GetValueOrDefault((int)h) + 1;
        }
        if (votes.Count > 0) return votes.MaxBy(kv => kv.Value).Key;

        // Div(MatMul(q, kᵀ), sqrt(head_dim)) or Mul(·, 1/sqrt(head_dim)).
        foreach (OnnxNodeProto n in g.Graph.Nodes)
        {
            if (n.OpType is not ("Div" or "Mul") || n.Inputs.Count != 2) continue;
            if (g.Producer(n.Inputs[0]) is not { OpType: "MatMul" } mm) continue;
            if (mm.Inputs.Any(i => g.Initializers.ContainsKey(i))) continue; // a Linear layer, not scores
            if (g.ConstFloats(n.Inputs[1]) is not [float c] || c <= 0) continue;
            double headDim = n.OpType == "Div" ? (double)c * c : 1.0 / ((double)c * c);
            int hd = (int)Math.Round(headDim);
            if (hd > 0 && Math.Abs(headDim - hd) < 1e-2 * hd && hidden % hd == 0) return hidden / hd;
        }
        return null;
    }

    /// <summary>The LayerNorm epsilon: an epsilon attribute, else the constant added to the variance before Sqrt.</summary>
    internal static float? InferLayerNormEpsilon(OnnxGraphIndex g)
    {
        foreach (OnnxNodeProto n in g.Graph.Nodes)
        {
            if (!n.OpType.EndsWith("LayerNormalization", StringComparison.Ordinal)) continue;
            if (n.Attribute("epsilon") is { } e) return e.F;
            if (n.OpType == "LayerNormalization") return 1e-5f; // the ONNX default
        }
        foreach (OnnxNodeProto sqrt in g.NodesOf("Sqrt"))
        {
            if (sqrt.Inputs.Count != 1 || g.Producer(sqrt.Inputs[0]) is not { OpType: "Add", Inputs.Count: 2 } add) continue;
            for (int k = 0; k < 2; k++)
            {
                if (g.Producer(add.Inputs[1 - k]) is not { OpType: "ReduceMean" }) continue;
                if (g.ConstFloats(add.Inputs[k]) is [float eps] && eps > 0 && eps < 1) return eps;
            }
        }
        return null;
    }

    /// <summary>"gelu" for the erf form (Erf or Gelu), "gelu_new" for the tanh form (FastGelu, BiasGelu with tanh), else "gelu".</summary>
    internal static string InferActivation(OnnxGraphIndex g)
    {
        // ONNX Gelu (opset 20) takes approximate = "none" | "tanh".
        if (g.NodesOf("Gelu").Any(n => n.Attribute("approximate")?.S.ToStringUtf8() == "tanh")) return "gelu_new";
        bool erf = g.Graph.Nodes.Any(n => n.OpType is "Erf" or "Gelu" or "BiasGelu");
        if (erf) return "gelu";
        if (g.Graph.Nodes.Any(n => n.OpType == "FastGelu")) return "gelu_new";
        if (g.Graph.Nodes.Any(n => n.OpType == "Relu")) return "relu";
        return "gelu";
    }
}
