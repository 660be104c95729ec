using System.Text.Json.Nodes;
using Vivace.Formats;
using Vivace.Formats.Onnx;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>Loads a GPT-2 ONNX export fused by ONNX Runtime (onnxruntime-genai's <c>past.onnx</c>) into a <see cref="Gpt2Model"/>.</summary>
public static class OnnxGpt2Loader
{
    /// <summary>
    /// <paramref name="onnxFile"/> with the HF <c>config.json</c> beside it (the graph does not carry the config).
    /// GPT-2 ties its LM head to <c>wte</c> unless config.json says otherwise; the export's LM head is <c>wte</c>ᵀ then.
    /// The weights are copied into the model, so the file is closed on return.
    /// </summary>
    public static Gpt2Model Load(string onnxFile, ITensorOps ops)
    {
        string configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(onnxFile))!, "config.json");
        if (!File.Exists(configPath))
            throw new ModelFormatException(configPath, "config.json is missing beside the ONNX file");
        HfConfig hf = WithGenaiModelBlock(HfConfig.Load(configPath));
        using OnnxGpt2WeightSource weights = OnnxGpt2WeightSource.Open(onnxFile);
        return new Gpt2Model(Gpt2Config.FromHf(hf), new WeightScope(weights) { Ops = ops }, hf.GetBool("tie_word_embeddings", true));
    }

    /// <summary>
    /// Old onnxruntime-genai exports wrote the sizes into a <c>"model"</c> block of config.json (n_embd, n_head,
    /// n_layer, vocab_size) and left them out of the HF fields. Copies those four to the top level where missing.
    /// The block's <c>hidden_size</c> is not copied: genai used it for the head size, not HF's hidden size.
    /// </summary>
    public static HfConfig WithGenaiModelBlock(HfConfig hf)
    {
        var root = (JsonObject)JsonNode.Parse(hf.ToJson(indented: false))!;
        if (root["model"] is not JsonObject block) return hf;
        bool changed = false;
        foreach (string key in new[] { "n_embd", "n_head", "n_layer", "vocab_size" })
        {
            if (root.ContainsKey(key) || block[key] is not JsonNode value) continue;
            root[key] = value.DeepClone();
            changed = true;
        }
        return changed ? HfConfig.Parse(root.ToJsonString(), hf.Source) : hf;
    }
}
