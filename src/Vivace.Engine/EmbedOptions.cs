using Vivace.Tokenizers;

namespace Vivace.Engine;

/// <summary>How to embed: normalization and what to do with inputs longer than the model takes.</summary>
public sealed record EmbedOptions
{
    /// <summary>L2-normalize the vectors; null: as the model's modules.json says.</summary>
    public bool? Normalize { get; init; }
    /// <summary>Cut inputs longer than <see cref="SentenceEmbedder.MaxInputTokens"/>; when false they are an error.</summary>
    public bool Truncate { get; init; } = true;
    /// <summary>Which end truncation cuts.</summary>
    public TruncationDirection TruncationDirection { get; init; } = TruncationDirection.Right;
    /// <summary>A prompt of the model's config_sentence_transformers.json to put before each input; null: its default.</summary>
    public string? PromptName { get; init; }

    public static EmbedOptions Default { get; } = new();
}
