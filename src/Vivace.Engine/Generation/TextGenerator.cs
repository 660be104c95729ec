using Vivace.Models.Decoders;
using Vivace.Tensors;
using Vivace.Tokenizers;

namespace Vivace.Engine.Generation;

/// <summary>
/// Text generation with a decoder-only model and its tokenizer: validates a <see cref="GenerationRequest"/> at the
/// boundary, then prefills the prompt into a KV cache sized for prompt + max_new_tokens and decodes one token per step
/// (LM head on the last position only), choosing tokens with a <see cref="TokenSampler"/>, detokenizing incrementally
/// (never half a UTF-8 character) and watching eos ids and stop sequences. Stateless between requests: concurrent
/// calls each get their own cache.
/// </summary>
public sealed class TextGenerator
{
    /// <summary>max_new_tokens when neither the request nor generation_config.json says (transformers' max_length 20).</summary>
    public const int FallbackMaxNewTokens = 20;

    private readonly HashSet<int> _specialIds;
    private readonly HashSet<int> _eosIds;

    public TextGenerator(string modelId, ICausalLM model, Tokenizer tokenizer, GenerationDefaults defaults)
    {
        ModelId = modelId;
        Model = model;
        Tokenizer = tokenizer;
        Defaults = defaults;
        _specialIds = tokenizer.AddedTokens.Where(t => t.Special).Select(t => t.Id).ToHashSet();
        _eosIds = defaults.EosTokenIds.ToHashSet();
    }

    /// <summary>
    /// Loads a decoder: an HF checkpoint directory (config.json, safetensors, tokenizer.json, generation_config.json), a
    /// fused GPT-2 ONNX export beside its config.json and tokenizer.json, a llama2.c checkpoint with its tokenizer.bin, or a
    /// llama.cpp GGUF file (weights and tokenizer).
    /// </summary>
    public static TextGenerator Load(string path, ITensorOps ops, string? modelId = null)
    {
        modelId ??= Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(path));
        CausalLMLoader.CheckpointKind kind = CausalLMLoader.Kind(path);
        if (kind == CausalLMLoader.CheckpointKind.Gguf)
        {
            // One header read for weights and tokenizer (a Llama 3 vocabulary alone is 128k strings).
            using var checkpoint = Vivace.Formats.Gguf.GgufCheckpoint.Open(GgufLoader.FindFile(path));
            ICausalLM ggufModel = GgufLoader.Load(checkpoint, ops);
            return WithGgufTokenizer(Tokenizers.Gguf.GgufMetadata.FromValues(checkpoint.Metadata, checkpoint.File.Version), modelId, ggufModel);
        }
        ICausalLM model = CausalLMLoader.Load(path, ops);
        if (kind == CausalLMLoader.CheckpointKind.Llama2c)
        {
            string tokenizer = Llama2cLoader.FindTokenizer(path)
                ?? throw new Vivace.Formats.ModelFormatException(path, "no tokenizer.bin (or tok*.bin) beside the llama2.c checkpoint");
            // llama2.c's stories end at BOS (run.c stops there) or EOS (SentencePiece's 1 and 2).
            return new TextGenerator(modelId, model, Tokenizer.FromLlama2c(tokenizer, model.VocabSize),
                new GenerationDefaults { EosTokenIds = [1, 2], BosTokenId = 1, PadTokenId = 0 });
        }
        string directory = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        return new TextGenerator(modelId, model, Tokenizer.FromDirectory(directory), GenerationDefaults.Load(directory));
    }

    /// <summary>A GGUF model's tokenizer and end-of-text ids come from its own <c>tokenizer.ggml.*</c> keys.</summary>
    private static TextGenerator WithGgufTokenizer(Tokenizers.Gguf.GgufMetadata metadata, string modelId, ICausalLM model)
    {
        Tokenizer tokenizer = Tokenizer.FromGguf(metadata);
        int? Id(string key) => metadata.GetInt(key) is long v && v >= 0 && v < model.VocabSize ? (int)v : null;
        int? eos = Id("tokenizer.ggml.eos_token_id");
        return new TextGenerator(modelId, model, tokenizer, new GenerationDefaults
        {
            EosTokenIds = eos is int e ? [e] : [],
            BosTokenId = Id("tokenizer.ggml.bos_token_id"),
            PadTokenId = Id("tokenizer.ggml.padding_token_id") ?? eos,
        });
    }

    public string ModelId { get; }
    public ICausalLM Model { get; }
    public Tokenizer Tokenizer { get; }
    public GenerationDefaults Defaults { get; }
    /// <summary>Prompt + generated tokens the model takes.</summary>
    public int MaxTotalTokens => Model.MaxPositions;

    /// <summary>Generates to the end and returns the result.</summary>
    public GenerationResult Generate(GenerationRequest request, CancellationToken cancellation = default)
    {
        GenerationResult? result = null;
        foreach (GenerationStep step in Stream(request, cancellation)) result = step.Final ?? result;
        return result ?? throw new InvalidOperationException("generation ended without a result");
    }

    /// <summary>
    /// Streams generation token by token; the last step carries the <see cref="GenerationResult"/>. The request is
    /// validated here, before the first step (an <see cref="InvalidInputException"/> for anything a client got wrong).
    /// </summary>
    public IEnumerable<GenerationStep> Stream(GenerationRequest request, CancellationToken cancellation = default)
    {
        PreparedRequest prepared = Prepare(request);
        return Run(prepared, cancellation);
    }

    /// <summary>Tokenizes, truncates and checks a request against the model's limits.</summary>
    internal PreparedRequest Prepare(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            request.Sampling.Validate();
        }
        catch (ArgumentException e)
        {
            throw InvalidInputException.From(e);
        }
        if (request.Prompt is null == request.PromptIds is null)
            throw new InvalidInputException("give either a prompt text or prompt token ids");
        if (request.MaxNewTokens is <= 0)
            throw new InvalidInputException($"max_new_tokens must be positive (got {request.MaxNewTokens})");
        if (request.Truncate is <= 0)
            throw new InvalidInputException($"truncate must be positive (got {request.Truncate})");
        foreach (string stop in request.Stop)
            if (string.IsNullOrEmpty(stop)) throw new InvalidInputException("stop sequences must not be empty");

        int[] ids = request.PromptIds is { } given ? [.. given] : Tokenizer.EncodeToIds(request.Prompt!, request.AddSpecialTokens);
        foreach (int id in ids)
            if ((uint)id >= (uint)Model.VocabSize)
                throw new InvalidInputException($"prompt token id {id} is outside the vocabulary [0, {Model.VocabSize})");
        bool truncated = false;
        if (request.Truncate is int keep && ids.Length > keep)
        {
            ids = ids[^keep..]; // TGI keeps the end of the prompt: the text right before the continuation
            truncated = true;
        }
        if (ids.Length == 0) throw new InvalidInputException("the prompt is empty (no tokens)");
        int maxNew = request.MaxNewTokens ?? Defaults.MaxNewTokens ?? FallbackMaxNewTokens;
        if (ids.Length >= MaxTotalTokens)
            throw new InvalidInputException(
                $"the prompt has {ids.Length} tokens; {ModelId} takes at most {MaxTotalTokens} tokens in all (prompt + new). " +
                "Shorten it or set truncate.", tooLong: true);
        if (ids.Length + maxNew > MaxTotalTokens)
        {
            if (request.MaxNewTokens is null) maxNew = MaxTotalTokens - ids.Length; // a default never fails a request
            else
                throw new InvalidInputException(
                    $"prompt tokens ({ids.Length}) + max_new_tokens ({maxNew}) must be <= {MaxTotalTokens}, the model's context",
                    tooLong: true);
        }
        string promptText = request.Prompt ?? Tokenizer.Decode(ids, skipSpecialTokens: true);
        return new PreparedRequest(ids, promptText, maxNew, request.Sampling, request.Stop, truncated, request.IgnoreEos);
    }

    private IEnumerable<GenerationStep> Run(PreparedRequest request, CancellationToken cancellation)
    {
        var sequence = new GenerationSequence(this, request);
        while (!sequence.Finished)
        {
            cancellation.ThrowIfCancellationRequested();
            Tensor logits = Model.ForwardParts([sequence.NextPart()]);
            yield return sequence.Advance(logits.AsSpan());
        }
    }

    internal bool IsSpecial(int id) => _specialIds.Contains(id);
    internal bool IsEos(int id) => _eosIds.Contains(id);

    internal string TokenText(int id) => Tokenizer.IdToToken(id) is { } piece && _specialIds.Contains(id)
        ? piece
        : Tokenizer.Decode([id], skipSpecialTokens: false);
}
