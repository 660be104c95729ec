namespace Vivace.Formats.Onnx;

/// <summary>Where one HF GPT-2 weight lives in an ORT-fused export.</summary>
/// <param name="Initializer">The initializer holding it, or null for a bias the export dropped (zeros).</param>
/// <param name="Transposed">True when the initializer is the transpose of the HF tensor.</param>
/// <param name="ZeroLength">Length of the zero bias when <paramref name="Initializer"/> is null.</param>
internal sealed record OnnxGpt2Ref(OnnxTensorProto? Initializer, bool Transposed, int ZeroLength = 0);

/// <summary>
/// Recovers every HF GPT-2 parameter name of a GPT-2 export that ONNX Runtime's transformer optimizer fused
/// (onnxruntime-genai's <c>past.onnx</c>). Such exports keep HF names on the initializers they keep, but identical
/// initializers were deduplicated (every LayerNorm gamma may be the one <c>transformer.h.0.ln_1.weight</c>, every zero
/// bias one zero tensor) and some names vanish altogether (<c>ln_2</c>, <c>ln_f</c>, <c>c_proj.bias</c>, the LM head
/// as <c>onnx::MatMul_N</c>). So names cannot come from the initializers; they come from where each initializer is used,
/// following the residual stream through the fused graph:
/// <code>
/// EmbedLayerNormalization(ids, _, wte, wpe, _, h.0.ln_1.weight, h.0.ln_1.bias)
/// per layer i:
///   Attention(x, h.i.attn.c_attn.weight, h.i.attn.c_attn.bias, ...) → MatMul(·, h.i.attn.c_proj.weight)
///   → SkipLayerNormalization(·, residual, h.i.ln_2.weight, h.i.ln_2.bias, h.i.attn.c_proj.bias)
///   → MatMul(·, h.i.mlp.c_fc.weight) → FastGelu(·, h.i.mlp.c_fc.bias) → MatMul(·, h.i.mlp.c_proj.weight)
///   → SkipLayerNormalization(·, residual, NEXT.weight, NEXT.bias, h.i.mlp.c_proj.bias)   NEXT = h.(i+1).ln_1 or ln_f
/// MatMul(·, W) → logits: lm_head.weight = Wᵀ
/// </code>
/// An optional input left empty (a bias the exporter dropped) is an HF bias of zeros.
/// </summary>
internal static class OnnxGpt2Naming
{
    public static Dictionary<string, OnnxGpt2Ref> Recover(OnnxGraphIndex g)
    {
        var map = new Dictionary<string, OnnxGpt2Ref>(StringComparer.Ordinal);
        OnnxNodeProto embed = g.NodesOf("EmbedLayerNormalization").FirstOrDefault()
            ?? throw new ModelFormatException(g.File, "not an ONNX Runtime-fused GPT-2 export: no EmbedLayerNormalization node");
        Put(g, map, "transformer.wte.weight", Input(g, embed, 2));
        Put(g, map, "transformer.wpe.weight", Input(g, embed, 3));
        (string Gamma, string Beta) pendingNorm = (Input(g, embed, 5), Input(g, embed, 6));
        int hidden = (int)Init(g, pendingNorm.Gamma).Dims[0];

        string current = embed.Outputs[0];
        int layer = 0;
        for (; Next(g, current, "Attention") is { } attn; layer++)
        {
            // A decoder's attention is causal; an encoder (BERT) fused the same way is not GPT-2.
            if (!IsCausal(attn))
                throw new ModelFormatException(g.File, $"Attention {attn.Name}", "not a GPT-2 export: the attention is not unidirectional (causal)");
            string p = $"transformer.h.{layer}.";
            PutNorm(g, map, p + "ln_1", pendingNorm);
            Put(g, map, p + "attn.c_attn.weight", Input(g, attn, 1));
            PutBias(g, map, p + "attn.c_attn.bias", attn, 2, 3 * hidden);
            OnnxNodeProto attnProj = Require(g, attn.Outputs[0], "MatMul", p + "attn.c_proj");
            Put(g, map, p + "attn.c_proj.weight", Input(g, attnProj, 1));
            OnnxNodeProto norm2 = Require(g, attnProj.Outputs[0], "SkipLayerNormalization", p + "ln_2");
            PutNorm(g, map, p + "ln_2", (Input(g, norm2, 2), Input(g, norm2, 3)));
            PutBias(g, map, p + "attn.c_proj.bias", norm2, 4, hidden);

            OnnxNodeProto fc = Require(g, norm2.Outputs[0], "MatMul", p + "mlp.c_fc");
            string fcWeight = Input(g, fc, 1);
            Put(g, map, p + "mlp.c_fc.weight", fcWeight);
            OnnxNodeProto gelu = Require(g, fc.Outputs[0], "FastGelu", p + "mlp activation");
            PutBias(g, map, p + "mlp.c_fc.bias", gelu, 1, (int)Init(g, fcWeight).Dims[1]);
            OnnxNodeProto mlpProj = Require(g, gelu.Outputs[0], "MatMul", p + "mlp.c_proj");
            Put(g, map, p + "mlp.c_proj.weight", Input(g, mlpProj, 1));
            OnnxNodeProto nextNorm = Require(g, mlpProj.Outputs[0], "SkipLayerNormalization", p + "residual");
            PutBias(g, map, p + "mlp.c_proj.bias", nextNorm, 4, hidden);
            pendingNorm = (Input(g, nextNorm, 2), Input(g, nextNorm, 3));
            current = nextNorm.Outputs[0];
        }
        if (layer == 0) throw new ModelFormatException(g.File, "not an ONNX Runtime-fused GPT-2 export: no Attention node after the embeddings");
        PutNorm(g, map, "transformer.ln_f", pendingNorm);

        // The LM head: a MatMul of the final hidden state by an initializer [hidden, vocab].
        if (Next(g, current, "MatMul") is { } head && g.Initializers.TryGetValue(head.Inputs[1], out OnnxTensorProto? w) && w.Dims.Count == 2)
            map["lm_head.weight"] = new OnnxGpt2Ref(w, Transposed: true);
        return map;
    }

    /// <summary>ORT's contrib Attention is causal when its <c>unidirectional</c> attribute is 1.</summary>
    public static bool IsCausal(OnnxNodeProto attention) => attention.Attribute("unidirectional")?.I == 1;

    private static OnnxNodeProto? Next(OnnxGraphIndex g, string value, string opType) =>
        g.Consumers(value).FirstOrDefault(n => n.OpType == opType);

    private static OnnxNodeProto Require(OnnxGraphIndex g, string value, string opType, string what) =>
        Next(g, value, opType) ?? throw new ModelFormatException(g.File, what,
            $"expected a {opType} node consuming '{value}' (ONNX Runtime-fused GPT-2 layout)");

    /// <summary>The initializer named by input <paramref name="index"/> of <paramref name="node"/>.</summary>
    private static string Input(OnnxGraphIndex g, OnnxNodeProto node, int index)
    {
        string name = index < node.Inputs.Count ? node.Inputs[index] : "";
        if (name.Length == 0 || !g.Initializers.ContainsKey(name))
            throw new ModelFormatException(g.File, $"{node.OpType} {node.Name}",
                $"input {index} is not an initializer ('{name}')");
        return name;
    }

    private static OnnxTensorProto Init(OnnxGraphIndex g, string name) => g.Initializers[name];

    private static void Put(OnnxGraphIndex g, Dictionary<string, OnnxGpt2Ref> map, string hfName, string initializer) =>
        map[hfName] = new OnnxGpt2Ref(Init(g, initializer), Transposed: false);

    private static void PutNorm(OnnxGraphIndex g, Dictionary<string, OnnxGpt2Ref> map, string module, (string Gamma, string Beta) norm)
    {
        Put(g, map, module + ".weight", norm.Gamma);
        Put(g, map, module + ".bias", norm.Beta);
    }

    /// <summary>A bias from an optional input: the initializer when present, zeros of <paramref name="length"/> when left empty.</summary>
    private static void PutBias(OnnxGraphIndex g, Dictionary<string, OnnxGpt2Ref> map, string hfName, OnnxNodeProto node, int index, int length)
    {
        if (index < node.Inputs.Count && node.Inputs[index].Length > 0) Put(g, map, hfName, Input(g, node, index));
        else map[hfName] = new OnnxGpt2Ref(null, Transposed: false, ZeroLength: length);
    }
}
