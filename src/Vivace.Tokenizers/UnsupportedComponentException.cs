namespace Vivace.Tokenizers;

/// <summary>A tokenizer.json names a pipeline component (or option) this library does not implement yet.</summary>
public sealed class UnsupportedComponentException(string stage, string type)
    : NotSupportedException($"Unsupported {stage} type '{type}' in tokenizer.json: Vivace.Tokenizers does not implement it yet.")
{
    /// <summary>The pipeline stage: normalizer, pre_tokenizer, model, post_processor, decoder, ...</summary>
    public string Stage { get; } = stage;

    /// <summary>The component's "type" as written in the file.</summary>
    public string ComponentType { get; } = type;
}
