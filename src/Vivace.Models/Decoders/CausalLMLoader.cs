using Vivace.Formats;
using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>Loads any supported decoder-only checkpoint directory by its config's <c>model_type</c>.</summary>
public static class CausalLMLoader
{
    /// <summary>GPT-2 or a Llama-family model (<see cref="DecoderConfig.ModelTypes"/>) from an HF checkpoint directory.</summary>
    public static ICausalLM Load(string directory, ITensorOps ops) =>
        Checkpoint.Load<ICausalLM>(directory, ops, (hf, scope) => hf.ModelType == "gpt2"
            ? new Gpt2Model(Gpt2Config.FromHf(hf), scope, hf.GetBool("tie_word_embeddings", true))
            : new LlamaModel(DecoderConfig.FromHf(hf), scope));
}
