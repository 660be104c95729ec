using Vivace.Cpu;
using Vivace.Formats;
using Vivace.Models;
using Vivace.Models.SentenceTransformers;
using Vivace.Tensors;
using Vivace.Tokenizers;

namespace Vivace.Engine;

/// <summary>
/// Text in, sentence vectors out, as sentence-transformers computes them: tokenize (truncated to the model's
/// max_seq_length), run the encoder over a ragged batch (no padding compute), pool, normalize.
/// Thread-safe: concurrent callers may embed at once.
/// </summary>
public sealed class SentenceEmbedder
{
    /// <summary>Tokens per forward pass: bounds activation memory for large requests.</summary>
    private const int TokenBudgetPerForward = 16384;

    private readonly Tokenizer _tokenizer, _truncateRight, _truncateLeft;

    public SentenceEmbedder(string modelId, string directory, Tokenizer tokenizer, SentenceTransformer model)
    {
        ModelId = modelId;
        Directory = directory;
        Model = model;
        int maxPositions = model.Encoder.MaxPositions;
        MaxInputTokens = Math.Min(model.Config.MaxSeqLength ?? tokenizer.Truncation?.MaxLength ?? maxPositions, maxPositions);
        // Ragged batches need no padding.
        _tokenizer = tokenizer.WithoutPadding().WithoutTruncation();
        _truncateRight = _tokenizer.WithTruncation(MaxInputTokens, TruncationStrategy.LongestFirst, TruncationDirection.Right);
        _truncateLeft = _tokenizer.WithTruncation(MaxInputTokens, TruncationStrategy.LongestFirst, TruncationDirection.Left);
    }

    /// <summary>Loads a model by id (a packaged model such as sentence-transformers/all-MiniLM-L6-v2) or directory.</summary>
    public static SentenceEmbedder Load(string idOrDirectory, ITensorOps? ops = null)
    {
        string directory = ModelResolver.Resolve(idOrDirectory);
        ops ??= CpuOps.Default;
        Tokenizer tokenizer = Tokenizer.FromDirectory(directory);
        IEncoderModel encoder = EncoderModelLoader.Load(directory, ops);
        var config = SentenceTransformerConfig.Load(directory);
        string id = ModelResolver.IsDirectory(idOrDirectory) ? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(idOrDirectory))) : idOrDirectory;
        return new SentenceEmbedder(id, directory, tokenizer, new SentenceTransformer(encoder, config, ops));
    }

    public string ModelId { get; }
    public string Directory { get; }
    public SentenceTransformer Model { get; }
    public Tokenizer Tokenizer => _tokenizer;
    /// <summary>Tokens (special tokens included) an input may have; longer ones are truncated or rejected.</summary>
    public int MaxInputTokens { get; }
    public int Dimensions => Model.Dimensions;

    /// <summary>Tokenizes as the model's inputs are tokenized (special tokens added, truncated as the options say).</summary>
    public Encoding Tokenize(string text, EmbedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= EmbedOptions.Default;
        // One pass: the truncating tokenizer reports what it cut in Overflowing.
        Tokenizer tokenizer = options.TruncationDirection == TruncationDirection.Left ? _truncateLeft : _truncateRight;
        Encoding encoding = tokenizer.Encode(WithPrompt(text, options.PromptName));
        if (encoding.Overflowing.Count > 0 && !options.Truncate)
            throw new InvalidInputException(
                $"input is longer than the model's maximum of {MaxInputTokens} tokens; send truncate=true to cut it", tooLong: true);
        return encoding;
    }

    /// <summary>
    /// Token ids of one input as the model takes them (special tokens added; <paramref name="options"/>' prompt
    /// prepended; truncated or rejected as they say): the ids-only tokenizer path, with the truncating tokenizer
    /// only for the inputs that are too long.
    /// </summary>
    public int[] TokenizeIds(string text, EmbedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= EmbedOptions.Default;
        text = WithPrompt(text, options.PromptName);
        int[] ids = _tokenizer.EncodeToIds(text);
        if (ids.Length <= MaxInputTokens) return ids;
        if (!options.Truncate)
            throw new InvalidInputException(
                $"input is longer than the model's maximum of {MaxInputTokens} tokens ({ids.Length}); send truncate=true to cut it", tooLong: true);
        // The full encode cuts as the truncating tokenizer says (its ids-only path would find the input too long
        // and run this same encode after a wasted pass).
        Tokenizer tokenizer = options.TruncationDirection == TruncationDirection.Left ? _truncateLeft : _truncateRight;
        return tokenizer.Encode(text).Ids;
    }

    /// <summary>The prompt named by <paramref name="promptName"/> (config_sentence_transformers.json "prompts") before
    /// the text; without a name, the model's default_prompt_name if it has one.</summary>
    private string WithPrompt(string text, string? promptName)
    {
        var prompts = Model.Config.Prompts;
        promptName ??= Model.Config.DefaultPromptName;
        if (promptName is null) return text;
        if (!prompts.TryGetValue(promptName, out string? prompt))
            throw new InvalidInputException(prompts.Count == 0
                ? $"prompt_name '{promptName}' given, but this model defines no prompts"
                : $"prompt_name '{promptName}' is not one of this model's prompts ({string.Join(", ", prompts.Keys)})");
        return prompt + text;
    }

    /// <summary>Checks already-tokenized inputs: length within <see cref="MaxInputTokens"/>, ids inside the vocabulary.</summary>
    public void ValidateTokens(IReadOnlyList<int[]> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        int vocab = Model.Encoder.VocabSize;
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] is null) throw new InvalidInputException($"input {i} is null");
            if (ids[i].Length == 0) throw new InvalidInputException($"input {i} has no tokens");
            if (ids[i].Length > MaxInputTokens)
                throw new InvalidInputException($"input {i} has {ids[i].Length} tokens, more than the model's maximum of {MaxInputTokens}", tooLong: true);
            foreach (int id in ids[i])
                if ((uint)id >= (uint)vocab) throw new InvalidInputException($"input {i} has token id {id}, outside the vocabulary [0, {vocab})");
        }
    }

    /// <summary>One vector per text.</summary>
    public float[][] Embed(IReadOnlyList<string> texts, EmbedOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        options ??= EmbedOptions.Default;
        var ids = new int[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null) throw new InvalidInputException($"input {i} is null; inputs must be strings");
            ids[i] = TokenizeIds(texts[i], options);
        }
        return EmbedTokens(ids, null, options.Normalize, cancellation);
    }

    /// <summary>One vector per already-tokenized input (ids as the model's tokenizer makes them).</summary>
    public float[][] EmbedTokens(IReadOnlyList<int[]> ids, IReadOnlyList<int[]>? typeIds = null, bool? normalize = null,
        CancellationToken cancellation = default)
    {
        var result = new float[ids.Count][];
        ValidateTokens(ids);
        int start = 0;
        while (start < ids.Count)
        {
            cancellation.ThrowIfCancellationRequested();
            int end = start, tokens = 0;
            while (end < ids.Count && (end == start || tokens + ids[end].Length <= TokenBudgetPerForward))
                tokens += ids[end++].Length;
            var chunkIds = new int[end - start][];
            var chunkTypes = new int[end - start][];
            for (int i = start; i < end; i++)
            {
                chunkIds[i - start] = ids[i];
                chunkTypes[i - start] = typeIds?[i] ?? new int[ids[i].Length];
            }
            float[][] vectors = Model.Encode(EncoderBatch.FromSequences(chunkIds, chunkTypes), normalize);
            vectors.CopyTo(result, start);
            start = end;
        }
        return result;
    }
}
