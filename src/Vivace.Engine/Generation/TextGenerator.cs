using System.Diagnostics;
using System.Text;
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
    /// fused GPT-2 ONNX export beside its config.json and tokenizer.json, or a llama2.c checkpoint with its tokenizer.bin.
    /// </summary>
    public static TextGenerator Load(string path, ITensorOps ops, string? modelId = null)
    {
        ICausalLM model = CausalLMLoader.Load(path, ops);
        modelId ??= Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(path));
        if (CausalLMLoader.Kind(path) == CausalLMLoader.CheckpointKind.Llama2c)
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
        Prepared prepared = Prepare(request);
        return Run(prepared, cancellation);
    }

    private sealed record Prepared(int[] PromptIds, string PromptText, int MaxNewTokens, SamplingParameters Sampling,
        IReadOnlyList<string> Stop, bool Truncated, bool IgnoreEos);

    /// <summary>Tokenizes, truncates and checks a request against the model's limits.</summary>
    private Prepared Prepare(GenerationRequest request)
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
        return new Prepared(ids, promptText, maxNew, request.Sampling, request.Stop, truncated, request.IgnoreEos);
    }

    private IEnumerable<GenerationStep> Run(Prepared p, CancellationToken cancellation)
    {
        int promptLength = p.PromptIds.Length, vocab = Model.VocabSize;
        var sampler = new TokenSampler(p.Sampling);
        int topN = p.Sampling.TopNTokens;
        var top = new TokenLogprob[Math.Max(topN, 1)];
        var history = new int[promptLength + p.MaxNewTokens];
        p.PromptIds.CopyTo(history, 0);
        int length = promptLength;

        // The decoder sees the prompt's last tokens first, so the first new token's leading space survives (as TGI's
        // prefix offsets do; decoding it alone would strip it as a sequence start).
        var decode = Tokenizer.CreateDecodeStream(p.PromptIds, skipSpecialTokens: true);
        var stops = new StopSequenceMatcher(p.Stop);
        var generated = new StringBuilder();
        int safeLength = 0; // text released so far: with a stop sequence, where it starts
        var tokens = new List<GeneratedToken>();

        var clock = Stopwatch.StartNew();
        var session = new DecodeSession(Model, 1, promptLength + p.MaxNewTokens);
        var promptIds = new long[promptLength];
        var ones = new long[promptLength];
        for (int i = 0; i < promptLength; i++) { promptIds[i] = p.PromptIds[i]; ones[i] = 1; }
        cancellation.ThrowIfCancellationRequested();
        Tensor logits = session.Prefill(promptLength, promptIds, ones);
        TimeSpan prefillTime = clock.Elapsed;
        var next = new long[1];

        for (int n = 0; n < p.MaxNewTokens; n++)
        {
            cancellation.ThrowIfCancellationRequested();
            TokenLogprob chosen = sampler.Next(logits.AsSpan()[..vocab], history.AsSpan(0, length), promptLength, top, out int topCount);
            int id = chosen.Id;
            history[length++] = id;
            bool special = _specialIds.Contains(id);
            string text = decode.Step(id) ?? "";
            bool eos = !p.IgnoreEos && _eosIds.Contains(id);
            bool last = eos || n == p.MaxNewTokens - 1;
            if (last) text += decode.Flush();
            generated.Append(text);

            StopSequenceResult match = stops.Push(text);
            string safe = match.Text;
            safeLength += safe.Length;
            FinishReason? finish = match.Stopped ? FinishReason.StopSequence
                : eos ? FinishReason.EosToken
                : n == p.MaxNewTokens - 1 ? FinishReason.Length
                : null;
            if (finish is not null and not FinishReason.StopSequence) safe += stops.Flush();

            var alternatives = new TokenAlternative[topN == 0 ? 0 : topCount];
            for (int i = 0; i < alternatives.Length; i++)
                alternatives[i] = new TokenAlternative(top[i].Id, TokenText(top[i].Id), top[i].Logprob, _specialIds.Contains(top[i].Id));
            // A special token's text is its content (TGI shows "</s>"), though generated_text skips it.
            var token = new GeneratedToken(id, special ? TokenText(id) : text, chosen.Logprob, special, alternatives);
            tokens.Add(token);

            GenerationResult? final = null;
            if (finish is FinishReason reason)
            {
                // TGI keeps the stop sequence in generated_text; the rest of the token that completed it is dropped.
                string all = generated.ToString();
                if (match.Stopped) all = all[..(safeLength + match.StopSequence!.Length)];
                final = new GenerationResult
                {
                    PromptText = p.PromptText,
                    PromptIds = p.PromptIds,
                    GeneratedText = all,
                    FinishReason = reason,
                    Tokens = tokens,
                    StopSequence = match.StopSequence,
                    StopIndex = match.Stopped ? safeLength : null,
                    Seed = p.Sampling.IsGreedy ? null : sampler.Seed,
                    PromptTruncated = p.Truncated,
                    PrefillTime = prefillTime,
                    DecodeTime = clock.Elapsed - prefillTime,
                };
            }
            yield return new GenerationStep(n, token, safe, final);
            if (final != null) yield break;
            next[0] = id;
            logits = session.Step(next);
        }
    }

    private string TokenText(int id) => Tokenizer.IdToToken(id) is { } piece && _specialIds.Contains(id)
        ? piece
        : Tokenizer.Decode([id], skipSpecialTokens: false);
}
