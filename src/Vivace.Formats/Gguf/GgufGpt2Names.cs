namespace Vivace.Formats.Gguf;

/// <summary>
/// The tensor names of llama.cpp's "gpt2" architecture and their HF GPT-2 equivalents, both ways. HF stores the four
/// projection matrices as Conv1D (<c>[in, out]</c>); GGUF stores every matrix as <c>[out, in]</c>, so those are
/// transposed on the way (<see cref="IsConv1D"/>).
/// </summary>
public static class GgufGpt2Names
{
    private static readonly GgufNameTable Table = new("transformer.h.",
    [("token_embd.weight", "transformer.wte.weight"), ("position_embd.weight", "transformer.wpe.weight")],
    [
        ("attn_norm.weight", "ln_1.weight"),
        ("attn_norm.bias", "ln_1.bias"),
        ("attn_qkv.weight", "attn.c_attn.weight"),
        ("attn_qkv.bias", "attn.c_attn.bias"),
        ("attn_output.weight", "attn.c_proj.weight"),
        ("attn_output.bias", "attn.c_proj.bias"),
        ("ffn_norm.weight", "ln_2.weight"),
        ("ffn_norm.bias", "ln_2.bias"),
        ("ffn_up.weight", "mlp.c_fc.weight"),
        ("ffn_up.bias", "mlp.c_fc.bias"),
        ("ffn_down.weight", "mlp.c_proj.weight"),
        ("ffn_down.bias", "mlp.c_proj.bias"),
    ],
    [("output_norm.weight", "transformer.ln_f.weight"), ("output_norm.bias", "transformer.ln_f.bias"), ("output.weight", "lm_head.weight")]);

    /// <summary>The HF name (with the <c>transformer.</c> prefix) of a GGUF gpt2 tensor, or null for a name the mapping does not know.</summary>
    public static string? ToHf(string ggufName) => Table.ToHf(ggufName);

    /// <summary>The GGUF name of an HF GPT-2 parameter (with or without the <c>transformer.</c> prefix), or null.</summary>
    public static string? ToGguf(string hfName) =>
        Table.ToGguf(hfName.StartsWith("transformer.", StringComparison.Ordinal) || hfName == "lm_head.weight" ? hfName : "transformer." + hfName);

    /// <summary>The HF names a gpt2 GGUF holds, in the order llama.cpp's converter writes them (with the prefix).</summary>
    public static IEnumerable<string> HfNames(int layers, bool tied) => Table.HfNames(layers, tied);

    /// <summary>Whether an HF name is a Conv1D weight (<c>[in, out]</c> in HF, transposed in GGUF).</summary>
    public static bool IsConv1D(string hfName) =>
        hfName.EndsWith(".weight", StringComparison.Ordinal) &&
        (hfName.Contains(".attn.c_attn.", StringComparison.Ordinal) || hfName.Contains(".attn.c_proj.", StringComparison.Ordinal)
         || hfName.Contains(".mlp.c_fc.", StringComparison.Ordinal) || hfName.Contains(".mlp.c_proj.", StringComparison.Ordinal));
}
