namespace Vivace.Formats.Gguf;

/// <summary>
/// The tensor names of llama.cpp's "llama" architecture (llama-arch.cpp, LLM_ARCH_LLAMA) and their HF Llama
/// equivalents, in both directions; used by <see cref="GgufCheckpoint"/> to read and <see cref="GgufExport"/> to write.
/// </summary>
public static class GgufLlamaNames
{
    /// <summary>Per-block names: GGUF <c>blk.N.{gguf}</c> is HF <c>model.layers.N.{hf}</c>; the biases are optional.</summary>
    private static readonly GgufNameTable Table = new("model.layers.",
    [("token_embd.weight", "model.embed_tokens.weight")],
    [
        ("attn_norm.weight", "input_layernorm.weight"),
        ("attn_q.weight", "self_attn.q_proj.weight"),
        ("attn_k.weight", "self_attn.k_proj.weight"),
        ("attn_v.weight", "self_attn.v_proj.weight"),
        ("attn_output.weight", "self_attn.o_proj.weight"),
        ("attn_q.bias", "self_attn.q_proj.bias"),
        ("attn_k.bias", "self_attn.k_proj.bias"),
        ("attn_v.bias", "self_attn.v_proj.bias"),
        ("attn_output.bias", "self_attn.o_proj.bias"),
        ("ffn_norm.weight", "post_attention_layernorm.weight"),
        ("ffn_gate.weight", "mlp.gate_proj.weight"),
        ("ffn_up.weight", "mlp.up_proj.weight"),
        ("ffn_down.weight", "mlp.down_proj.weight"),
        ("ffn_gate.bias", "mlp.gate_proj.bias"),
        ("ffn_up.bias", "mlp.up_proj.bias"),
        ("ffn_down.bias", "mlp.down_proj.bias"),
    ],
    [("output_norm.weight", "model.norm.weight"), ("output.weight", "lm_head.weight")]);

    /// <summary>The HF name of a GGUF llama tensor, or null for a name the mapping does not know.</summary>
    public static string? ToHf(string ggufName) => Table.ToHf(ggufName);

    /// <summary>The GGUF name of an HF Llama parameter, or null for a name the mapping does not know.</summary>
    public static string? ToGguf(string hfName) => Table.ToGguf(hfName);

    /// <summary>The HF names a llama GGUF holds, in the order llama.cpp's converter writes them (biases included: optional).</summary>
    internal static IEnumerable<string> HfNames(int layers, bool tied) => Table.HfNames(layers, tied);

    /// <summary>Whether an HF name is a q or k projection (weight or bias), whose rows the two RoPE conventions order differently.</summary>
    public static bool IsRopeRows(string hfName, out bool isKey)
    {
        isKey = hfName.Contains(".self_attn.k_proj.", StringComparison.Ordinal);
        return isKey || hfName.Contains(".self_attn.q_proj.", StringComparison.Ordinal);
    }
}
