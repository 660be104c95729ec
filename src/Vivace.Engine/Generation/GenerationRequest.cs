namespace Vivace.Engine.Generation;

/// <summary>One text-generation request as every dialect (TGI, HF, OpenAI, CLI) maps onto it.</summary>
public sealed record GenerationRequest
{
    /// <summary>The prompt text; or give <see cref="PromptIds"/> instead.</summary>
    public string? Prompt { get; init; }
    /// <summary>The prompt as token ids (used as given: no special tokens added).</summary>
    public IReadOnlyList<int>? PromptIds { get; init; }
    /// <summary>New tokens at most; null takes the model's generation_config max_new_tokens, else 20.</summary>
    public int? MaxNewTokens { get; init; }
    public SamplingParameters Sampling { get; init; } = SamplingParameters.Greedy;
    /// <summary>Strings that end generation when they appear in the generated text (across token boundaries).</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];
    /// <summary>Keep only the last this-many prompt tokens (TGI's <c>truncate</c>); null: a too-long prompt is an error.</summary>
    public int? Truncate { get; init; }
    /// <summary>Tokenize the prompt with the tokenizer's special tokens (BOS for Llama), as TGI and the pipeline do.</summary>
    public bool AddSpecialTokens { get; init; } = true;
    /// <summary>Keep generating past eos tokens (benchmarks).</summary>
    public bool IgnoreEos { get; init; }
}

/// <summary>Why generation ended, named as TGI names it.</summary>
public enum FinishReason
{
    /// <summary>max_new_tokens reached.</summary>
    Length,
    /// <summary>The model emitted an eos token.</summary>
    EosToken,
    /// <summary>A stop sequence appeared in the generated text.</summary>
    StopSequence,
}

/// <summary>A token with its log-probability (under the processed distribution it was chosen from).</summary>
public readonly record struct TokenAlternative(int Id, string Text, float Logprob, bool Special);

/// <summary>One generated token: its own text (empty while a multi-byte character is incomplete) and logprobs.</summary>
public sealed record GeneratedToken(int Id, string Text, float Logprob, bool Special, IReadOnlyList<TokenAlternative> TopTokens);

/// <summary>
/// A finished generation. <see cref="GeneratedText"/> is the decoded text of the generated tokens, as TGI returns it: a
/// stop sequence that ended it is included (what followed it within the same token is not); <see cref="TextBeforeStop"/>
/// cuts it where that stop sequence begins, as OpenAI returns it.
/// </summary>
public sealed record GenerationResult
{
    public required string PromptText { get; init; }
    public required IReadOnlyList<int> PromptIds { get; init; }
    public required string GeneratedText { get; init; }
    public required FinishReason FinishReason { get; init; }
    public required IReadOnlyList<GeneratedToken> Tokens { get; init; }
    /// <summary>The stop sequence that ended generation, if one did.</summary>
    public string? StopSequence { get; init; }
    /// <summary>Where <see cref="StopSequence"/> starts in <see cref="GeneratedText"/>, if one ended generation.</summary>
    public int? StopIndex { get; init; }
    /// <summary>The sampler's seed, when sampling.</summary>
    public ulong? Seed { get; init; }
    /// <summary>Whether the prompt was cut to fit (<see cref="GenerationRequest.Truncate"/>).</summary>
    public bool PromptTruncated { get; init; }
    public TimeSpan PrefillTime { get; init; }
    public TimeSpan DecodeTime { get; init; }

    public string TextBeforeStop => StopIndex is int i ? GeneratedText[..i] : GeneratedText;
    public int GeneratedTokens => Tokens.Count;
}

/// <summary>
/// One step of a streamed generation: the token just produced, the text now safe to show (held back while it could
/// still be the start of a stop sequence, and never the stop sequence itself), and the result on the last step.
/// </summary>
public sealed record GenerationStep(int Index, GeneratedToken Token, string SafeText, GenerationResult? Final);
