using System.Globalization;

namespace Vivace.Formats.Gguf;

/// <summary>What every architecture's GGUF → HF config.json translation does alike.</summary>
internal static class GgufHfConfigValues
{
    /// <summary>A GGUF f32 value as the double config.json would hold: the shortest decimal keeps 1e-5 as 1e-5, not
    /// 9.99999974e-06.</summary>
    public static double ShortestDecimal(float value) =>
        double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>The tokenizer's BOS/EOS ids, where the file has them, as config.json's bos_token_id / eos_token_id.</summary>
    public static void AddSpecialTokenIds(GgufFile file, IDictionary<string, object?> values)
    {
        if (file.GetInteger("tokenizer.ggml.bos_token_id") is long bos) values["bos_token_id"] = bos;
        if (file.GetInteger("tokenizer.ggml.eos_token_id") is long eos) values["eos_token_id"] = eos;
    }
}
