using System.Globalization;

namespace Vivace.Formats.Gguf;

/// <summary>
/// One llama.cpp architecture's tensor names and their HF equivalents, both ways: whole-model tensors before and after
/// the blocks, and per-block names (GGUF <c>blk.N.{gguf}</c> is HF <c>{hfLayerPrefix}N.{hf}</c>), each list in the order
/// llama.cpp's converter writes them.
/// </summary>
internal sealed class GgufNameTable(string hfLayerPrefix, (string Gguf, string Hf)[] leading, (string Gguf, string Hf)[] perBlock,
    (string Gguf, string Hf)[] trailing)
{
    private const string GgufBlockPrefix = "blk.";

    /// <summary>The HF name of a GGUF tensor, or null for a name the table does not know.</summary>
    public string? ToHf(string ggufName) => Map(ggufName, fromGguf: true);

    /// <summary>The GGUF name of an HF parameter, or null for a name the table does not know.</summary>
    public string? ToGguf(string hfName) => Map(hfName, fromGguf: false);

    /// <summary>
    /// Every HF name a file of <paramref name="layers"/> blocks holds, in writing order; <c>lm_head.weight</c> left out
    /// when the head is tied to the token embedding.
    /// </summary>
    public IEnumerable<string> HfNames(int layers, bool tied)
    {
        foreach (var (_, hf) in leading) yield return hf;
        for (int l = 0; l < layers; l++)
            foreach (var (_, hf) in perBlock) yield return $"{hfLayerPrefix}{l}.{hf}";
        foreach (var (_, hf) in trailing)
            if (!(tied && hf == "lm_head.weight")) yield return hf;
    }

    private string? Map(string name, bool fromGguf)
    {
        foreach (var (g, h) in leading.Concat(trailing))
            if (name == (fromGguf ? g : h)) return fromGguf ? h : g;
        string prefix = fromGguf ? GgufBlockPrefix : hfLayerPrefix;
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return null;
        int dot = name.IndexOf('.', prefix.Length);
        if (dot < 0 || !int.TryParse(name.AsSpan(prefix.Length, dot - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int block))
            return null;
        string rest = name[(dot + 1)..];
        foreach (var (g, h) in perBlock)
            if (rest == (fromGguf ? g : h)) return fromGguf ? $"{hfLayerPrefix}{block}.{h}" : $"{GgufBlockPrefix}{block}.{g}";
        return null;
    }
}
