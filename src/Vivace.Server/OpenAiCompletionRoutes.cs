using System.Text.Json;
using Vivace.Engine;
using Vivace.Engine.Generation;

namespace Vivace.Server;

/// <summary>
/// OpenAI's <c>POST /v1/completions</c> on a text-generation model: prompt as a string or token ids, sampling on by
/// default (temperature 1; 0 is greedy), up to 4 stop sequences (cut before the stop, as OpenAI does), logprobs
/// (0..5 alternatives), echo, and streaming as server-sent events ending with <c>data: [DONE]</c>. One choice per
/// request (n = best_of = 1). Errors are OpenAI's error object (the request pipeline writes it).
/// </summary>
public static class OpenAiCompletionRoutes
{
    /// <summary>OpenAI's default max_tokens for completions.</summary>
    public const int DefaultMaxTokens = 16;

    /// <summary>OpenAI's limit on logprobs for completions.</summary>
    public const int MaxLogprobs = 5;

    public static void Map(IEndpointRouteBuilder app, ServerContext server) =>
        app.MapPost("/v1/completions", Task<IResult> (HttpContext http) => CompletionsAsync(http, server));

    private static async Task<IResult> CompletionsAsync(HttpContext http, ServerContext server)
    {
        byte[] body = await ServerContext.ReadBodyAsync(http);
        OpenAiCompletionRequest request = ServerContext.Parse(body, OpenAiCompletionJsonContext.Default.OpenAiCompletionRequest);
        Check(request);
        if (request.StreamOptions is { ValueKind: not JsonValueKind.Null } && request.Stream != true)
            throw Bad("'stream_options' is only allowed when 'stream' is true", "stream_options");
        IncludeUsage(request.StreamOptions); // checked before anything runs
        (string? text, int[]? ids) = ReadPrompt(request.Prompt);
        string id;
        try
        {
            id = server.Models.Resolve(request.Model);
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            throw new ApiException(e.Status, e.Message, "model_not_found") { Param = "model" };
        }
        LoadedModel model = await Generating.ModelAsync(http, server, id, ServerContext.WaitForModel(http, null, fallback: true));
        float temperature = request.Temperature ?? 1f;
        var generation = new GenerationRequest
        {
            Prompt = text,
            PromptIds = ids,
            MaxNewTokens = request.MaxTokens ?? DefaultMaxTokens,
            // OpenAI always samples, unless the temperature is 0.
            Sampling = new SamplingParameters
            {
                DoSample = temperature != 0f,
                Temperature = temperature,
                TopP = request.TopP,
                PresencePenalty = request.PresencePenalty,
                FrequencyPenalty = request.FrequencyPenalty,
                Seed = request.Seed,
                TopNTokens = request.Logprobs ?? 0,
            },
            Stop = Generating.Stops(ReadStop(request.Stop), "stop"),
        };
        GenerationRun run;
        try
        {
            run = await Generating.StartAsync(http, server, model, generation);
        }
        catch (InvalidInputException e)
        {
            // The engine speaks TGI's names; say OpenAI's, and name the field at fault.
            string message = e.Message.Replace("max_new_tokens", "max_tokens").Replace("top_n_tokens", "logprobs");
            string param = message.Contains("max_tokens", StringComparison.Ordinal) ? "max_tokens"
                : message.Split(' ')[0] is var first && first is "temperature" or "top_p" or "presence_penalty" or "frequency_penalty" or "logprobs" ? first
                : "prompt";
            throw ApiException.Unprocessable(message, param);
        }
        string completionId = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        bool echo = request.Echo == true;

        if (request.Stream == true)
        {
            await StreamAsync(http, run, completionId, created, model.Id, echo ? text ?? model.Tokenizer.Decode(ids!, skipSpecialTokens: true) : null,
                IncludeUsage(request.StreamOptions));
            return Results.Empty;
        }

        GenerationResult result = await run.ResultAsync(http.RequestAborted);
        run.SetHeaders(http, result);
        string prefix = echo ? result.PromptText : "";
        var choice = new OpenAiCompletionChoice(prefix + result.TextBeforeStop, 0,
            request.Logprobs is not null ? Logprobs(result, prefix.Length) : null, FinishName(result.FinishReason));
        var completion = new OpenAiCompletion
        {
            Id = completionId,
            Created = created,
            Model = model.Id,
            Choices = [choice],
            Usage = new OpenAiCompletionUsage(result.PromptIds.Count, result.GeneratedTokens, result.PromptIds.Count + result.GeneratedTokens),
        };
        return Results.Bytes(ServerContext.Json(completion, OpenAiCompletionJsonContext.Default.OpenAiCompletion), "application/json");
    }

    /// <summary>What OpenAI accepts and this server does not do, or out of OpenAI's ranges: 4xx naming the field.</summary>
    private static void Check(OpenAiCompletionRequest r)
    {
        if (r.N is int n && n != 1) throw Bad($"'n' must be 1 (one completion per request). Given: {n}", "n");
        if (r.BestOf is int b && b != 1) throw Bad($"'best_of' must be 1 (one completion per request). Given: {b}", "best_of");
        if (r.Suffix is not null) throw Bad("'suffix' (insertion) is not supported", "suffix");
        if (r.Temperature is float t && !(t >= 0f && t <= 2f)) throw Bad($"'temperature' must be in [0, 2]. Given: {t}", "temperature");
        if (r.Logprobs is int l && (l < 0 || l > MaxLogprobs)) throw Bad($"'logprobs' must be in [0, {MaxLogprobs}]. Given: {l}", "logprobs");
        if (r.Echo == true && r.Logprobs is not null)
            throw Bad("'echo' with 'logprobs' is not supported (prompt token logprobs are not computed)", "echo");
        if (r.LogitBias is { ValueKind: JsonValueKind.Object } bias && bias.EnumerateObject().Any())
            throw Bad("'logit_bias' is not supported", "logit_bias");
        if (r.LogitBias is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
            throw Bad("'logit_bias' must be an object", "logit_bias");
        if (r.MaxTokens is int m && m <= 0) throw Bad($"'max_tokens' must be at least 1. Given: {m}", "max_tokens");
    }

    private static ApiException Bad(string message, string param) => ApiException.Unprocessable(message, param);

    /// <summary>The prompt: a string, a list of one string, a list of token ids, or a list of one such list.</summary>
    private static (string? Text, int[]? Ids) ReadPrompt(JsonElement prompt)
    {
        const string field = "prompt";
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return (Inputs.Text(prompt, field), null);
            case JsonValueKind.Array:
                int count = prompt.GetArrayLength();
                if (count == 0) throw Bad($"'{field}' cannot be empty", field);
                JsonElement first = prompt[0];
                if (first.ValueKind == JsonValueKind.Number) return (null, TokenIds(prompt, field));
                if (count > 1) throw Bad($"'{field}' holds {count} prompts; this server takes one per request", field);
                return first.ValueKind switch
                {
                    JsonValueKind.String => (Inputs.Text(first, field), null),
                    JsonValueKind.Array when first.GetArrayLength() > 0 => (null, TokenIds(first, field)),
                    _ => throw Bad($"'{field}' must be a string, a list of token ids, or a list of one of them", field),
                };
            case JsonValueKind.Undefined:
                throw Bad($"missing field '{field}'", field);
            default:
                throw Bad($"'{field}' must be a string or a list of token ids, not {prompt.ValueKind.ToString().ToLowerInvariant()}", field);
        }
    }

    private static int[] TokenIds(JsonElement list, string field)
    {
        var ids = new int[list.GetArrayLength()];
        int i = 0;
        foreach (JsonElement e in list.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int id) || id < 0)
                throw Bad($"'{field}' must hold non-negative integer token ids; item {i} is {e.GetRawText()}", field);
            ids[i++] = id;
        }
        return ids;
    }

    /// <summary>stop: absent, null, a string, or a list of strings.</summary>
    private static List<string?>? ReadStop(JsonElement stop)
    {
        const string field = "stop";
        switch (stop.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return [Inputs.Text(stop, field)];
            case JsonValueKind.Array:
                var list = new List<string?>();
                foreach (JsonElement e in stop.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.String) throw Bad($"'{field}' must hold strings; item {list.Count} is not one", field);
                    list.Add(Inputs.Text(e, field));
                    if (list.Count > Generating.MaxStopSequences) break; // Stops says how many are allowed
                }
                return list;
            default:
                throw Bad($"'{field}' must be a string or a list of strings", field);
        }
    }

    private static string FinishName(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";

    /// <summary>OpenAI's legacy logprobs: each token, its logprob, its alternatives by text, and where it starts in the
    /// choice's text.</summary>
    private static OpenAiLogprobs Logprobs(GenerationResult result, int offset)
    {
        int n = result.Tokens.Count;
        var tokens = new string[n];
        var logprobs = new float[n];
        var top = new Dictionary<string, float>[n];
        var offsets = new int[n];
        for (int i = 0; i < n; i++)
        {
            GeneratedToken t = result.Tokens[i];
            tokens[i] = t.Text;
            logprobs[i] = t.Logprob;
            top[i] = new Dictionary<string, float>();
            foreach (TokenAlternative a in t.TopTokens) top[i].TryAdd(a.Text, a.Logprob); // two ids may read alike: the likelier stays
            offsets[i] = offset;
            offset += t.Special ? 0 : t.Text.Length;
        }
        return new OpenAiLogprobs(tokens, logprobs, top, offsets);
    }

    /// <summary>Chunks of text as it becomes safe to show (never part of a stop sequence), the last with the
    /// finish_reason, then <c>data: [DONE]</c>.</summary>
    private static async Task StreamAsync(HttpContext http, GenerationRun run, string id, long created, string model, string? echo, bool includeUsage)
    {
        await Generating.StartEventsAsync(http);
        OpenAiCompletion Chunk(string text, string? finish) => new()
        {
            Id = id,
            Created = created,
            Model = model,
            Choices = [new OpenAiCompletionChoice(text, 0, null, finish)],
        };
        try
        {
            if (echo != null) await Write(http, Chunk(echo, null));
            await foreach (GenerationStep step in run.StepsAsync(http.RequestAborted))
            {
                if (step.Final is { } final)
                {
                    await Write(http, Chunk(step.SafeText, FinishName(final.FinishReason)));
                    // stream_options.include_usage: one more chunk, with no choices and the usage, as OpenAI sends it.
                    if (includeUsage)
                        await Write(http, Chunk("", null) with
                        {
                            Choices = [],
                            Usage = new OpenAiCompletionUsage(final.PromptIds.Count, final.GeneratedTokens, final.PromptIds.Count + final.GeneratedTokens),
                        });
                }
                else if (step.SafeText.Length > 0) await Write(http, Chunk(step.SafeText, null));
            }
            await Generating.WriteEventAsync(http, "[DONE]"u8.ToArray(), space: true);
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Vivace.Generation").LogError(e, "completion stream failed");
            var error = new OpenAiErrorBody(new OpenAiError(e is ApiException api ? api.Message : "generation failed; the error is in the server's log",
                "server_error", null, null));
            await Generating.WriteEventAsync(http, ServerContext.Json(error, ServerJsonContext.Default.OpenAiErrorBody), space: true);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the run was cancelled with its request.
        }
    }

    /// <summary>stream_options: absent, null, or an object whose include_usage is a boolean.</summary>
    private static bool IncludeUsage(JsonElement? options)
    {
        if (options is not { ValueKind: not JsonValueKind.Null } o) return false;
        if (o.ValueKind != JsonValueKind.Object) throw Bad("'stream_options' must be an object", "stream_options");
        foreach (JsonProperty p in o.EnumerateObject())
        {
            if (p.Name != "include_usage") throw Bad($"unknown field 'stream_options.{p.Name}'", "stream_options");
            if (p.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw Bad("'stream_options.include_usage' must be a boolean", "stream_options");
            return p.Value.GetBoolean();
        }
        return false;
    }

    private static Task Write(HttpContext http, OpenAiCompletion chunk) =>
        Generating.WriteEventAsync(http, ServerContext.Json(chunk, OpenAiCompletionJsonContext.Default.OpenAiCompletion), space: true);
}
