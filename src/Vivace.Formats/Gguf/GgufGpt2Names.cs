using System.Text.RegularExpressions;

namespace Vivace.Formats.Gguf;

/// <summary>
/// The tensor names of llama.cpp's "gpt2" architecture and their HF GPT-2 equivalents, both ways. HF stores the four
/// projection matrices as Conv1D (<c>[in, out]</c>); GGUF stores every matrix as <c>[out, in]</c>, so those are
/// transposed on the way (<see cref="IsConv1D"/>).
/// </summary>
public static partial class GgufGpt2Names
{
    private static readonly (string Gguf, string Hf)[] Global =
    [
        ("token_embd.weight", "transformer.wte.weight"),
        ("position_embd.weight", "transformer.wpe.weight"),
        ("output_norm.weight", "transformer.ln_f.weight"),
        ("output_norm.bias", "transformer.ln_f.bias"),
        ("output.weight", "lm_head.weight"),
    ];

    /// <summary>Per-block names: GGUF <c>blk.N.{gguf}</c> is HF <c>transformer.h.N.{hf}</c>, in the order they are written.</summary>
    private static readonly (string Gguf, string Hf)[] PerBlock =
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
    ];

    [GeneratedRegex(@"^blk\.(\d+)\.(.+)$")]
    private static partial Regex GgufBlock();

    [GeneratedRegex(@"^transformer\.h\.(\d+)\.(.+)$")]
    private static partial Regex HfLayer();

    /// <summary>The HF name of a GGUF gpt2 tensor, or null for a name the mapping does not know.</summary>
    public static string? ToHf(string ggufName)
    {
        foreach (var (g, h) in Global) if (ggufName == g) return h;
        Match m = GgufBlock().Match(ggufName);
        if (!m.Success) return null;
        foreach (var (g, h) in PerBlock) if (m.Groups[2].Value == g) return $"transformer.h.{m.Groups[1].Value}.{h}";
        return null;
    }

    /// <summary>The GGUF name of an HF GPT-2 parameter (with or without the <c>transformer.</c> prefix), or null.</summary>
    public static string? ToGguf(string hfName)
    {
        string name = hfName.StartsWith("transformer.", StringComparison.Ordinal) || hfName == "lm_head.weight" ? hfName : "transformer." + hfName;
        foreach (var (g, h) in Global) if (name == h) return g;
        Match m = HfLayer().Match(name);
        if (!m.Success) return null;
        foreach (var (g, h) in PerBlock) if (m.Groups[2].Value == h) return $"blk.{m.Groups[1].Value}.{g}";
        return null;
    }

    /// <summary>The HF names a gpt2 GGUF holds, in the order llama.cpp's converter writes them (with the prefix).</summary>
    public static IEnumerable<string> HfNames(int layers, bool tied)
    {
        yield return "transformer.wte.weight";
        yield return "transformer.wpe.weight";
        for (int l = 0; l < layers; l++)
            foreach (var (_, h) in PerBlock) yield return $"transformer.h.{l}.{h}";
        yield return "transformer.ln_f.weight";
        yield return "transformer.ln_f.bias";
        if (!tied) yield return "lm_head.weight";
    }

    /// <summary>Whether an HF name is a Conv1D weight (<c>[in, out]</c> in HF, transposed in GGUF).</summary>
    public static bool IsConv1D(string hfName) =>
        hfName.EndsWith(".weight", StringComparison.Ordinal) &&
        (hfName.Contains(".attn.c_attn.", StringComparison.Ordinal) || hfName.Contains(".attn.c_proj.", StringComparison.Ordinal)
         || hfName.Contains(".mlp.c_fc.", StringComparison.Ordinal) || hfName.Contains(".mlp.c_proj.", StringComparison.Ordinal));
}
