using System.Text.Json;
using Vivace.Engine.Generation;

namespace Vivace.Server;

/// <summary>
/// Text Generation Inference: <c>POST /generate</c> (the whole answer), <c>POST /generate_stream</c> (server-sent
/// events, one per token, the last with the whole text and details) and <c>POST /</c> (either, by "stream"). Like TGI
/// they serve one model: the server's first text-generation model. Also the Hugging Face Inference API's
/// text-generation task (<c>/models/{id}</c> and <c>/pipeline/text-generation/{id}</c>), which HfRoutes hands here.
/// </summary>
public static class TgiRoutes
{
    public const string TextGeneration = "text-generation";

    public static void Map(IEndpointRouteBuilder app, ServerContext server)
    {
        // The explicit return types keep these handlers off the RequestDelegate overload, which would drop their IResult.
        app.MapPost("/generate", Task<IResult> (HttpContext http) => GenerateAsync(http, server, stream: false, compat: false));
        app.MapPost("/generate_stream", Task<IResult> (HttpContext http) => GenerateAsync(http, server, stream: true, compat: false));
        app.MapPost("/", Task<IResult> (HttpContext http) => GenerateAsync(http, server, stream: null, compat: true));
    }

    private static async Task<IResult> GenerateAsync(HttpContext http, ServerContext server, bool? stream, bool compat)
    {
        byte[] body = await ServerContext.ReadBodyAsync(http);
        TgiGenerateRequest request = ServerContext.Parse(body, TgiJsonContext.Default.TgiGenerateRequest);
        // "stream" belongs to POST /; elsewhere it is ignored, as TGI ignores it.
        bool streaming = stream ?? request.Stream ?? false;
        string prompt = Generating.Prompt(request.Inputs, "inputs");
        TgiParameters p = request.Parameters ?? new TgiParameters();
        LoadedModel model = await Generating.ModelAsync(http, server, null, ServerContext.WaitForModel(http, null, fallback: true));
        GenerationRequest generation = ToRequest(model.Generator!, prompt, p);
        // POST / defaults return_full_text as TGI does for a text-generation model (its pipeline tag): on; the others off.
        bool fullText = p.ReturnFullText ?? compat;

        GenerationRun run = await Generating.StartAsync(http, server, model, generation);
        if (streaming)
        {
            await StreamAsync(http, run, fullText);
            return Results.Empty;
        }
        GenerationResult result = await run.ResultAsync(http.RequestAborted);
        run.SetHeaders(http, result);
        var response = new TgiGenerateResponse((fullText ? result.PromptText : "") + result.GeneratedText,
            p.Details == true ? Details(result, generation.Sampling.TopNTokens > 0) : null);
        // POST / answers as the Inference API does: a list of one.
        return compat
            ? Results.Bytes(ServerContext.Json(new[] { response }, TgiJsonContext.Default.TgiGenerateResponseArray), "application/json")
            : Results.Bytes(ServerContext.Json(response, TgiJsonContext.Default.TgiGenerateResponse), "application/json");
    }

    /// <summary>TGI's parameters as an engine request; what this server does not do is a 422 that says so.</summary>
    private static GenerationRequest ToRequest(TextGenerator generator, string prompt, TgiParameters p)
    {
        if (p.BestOf is int bestOf && bestOf != 1)
            throw ApiException.Unprocessable(bestOf < 1 ? $"'best_of' must be > 0. Given: {bestOf}" : "'best_of' > 1 is not supported (max_best_of is 1)", "best_of");
        if (p.Watermark == true) throw ApiException.Unprocessable("'watermark' is not supported", "watermark");
        if (p.DecoderInputDetails == true)
            throw ApiException.Unprocessable("'decoder_input_details' is not supported (prompt token logprobs are not computed)", "decoder_input_details");
        if (p.Grammar is { ValueKind: not JsonValueKind.Null }) throw ApiException.Unprocessable("'grammar' is not supported", "grammar");
        if (p.AdapterId is not null) throw ApiException.Unprocessable("'adapter_id' is not supported", "adapter_id");
        return new GenerationRequest
        {
            Prompt = prompt,
            MaxNewTokens = p.MaxNewTokens,
            Sampling = Generating.TgiSampling(p.DoSample, p.Temperature, p.TopK, p.TopP, p.TypicalP, p.RepetitionPenalty,
                p.FrequencyPenalty, p.Seed, p.TopNTokens ?? 0),
            Stop = Generating.Stops(p.Stop, "stop"),
            Truncate = Generating.Truncate(p.Truncate, generator, "truncate"),
        };
    }

    private static TgiToken Token(GeneratedToken t) => new(t.Id, t.Text, t.Logprob, t.Special);

    private static TgiToken[] TopTokens(GeneratedToken t) => t.TopTokens.Select(a => new TgiToken(a.Id, a.Text, a.Logprob, a.Special)).ToArray();

    private static TgiDetails Details(GenerationResult result, bool topTokens) => new()
    {
        FinishReason = Generating.FinishName(result.FinishReason),
        GeneratedTokens = result.GeneratedTokens,
        Seed = result.Seed,
        Tokens = result.Tokens.Select(Token).ToArray(),
        TopTokens = topTokens ? result.Tokens.Select(TopTokens).ToArray() : null,
    };

    /// <summary>One event per token; the last carries the whole text and the details. A failure once the stream has
    /// started is TGI's error event; a client that leaves stops the generation (its token cancels the run).</summary>
    private static async Task StreamAsync(HttpContext http, GenerationRun run, bool fullText)
    {
        await Generating.StartEventsAsync(http);
        try
        {
            await foreach (GenerationStep step in run.StepsAsync(http.RequestAborted))
            {
                GenerationResult? final = step.Final;
                var response = new TgiStreamResponse
                {
                    Index = step.Index,
                    Token = Token(step.Token),
                    TopTokens = step.Token.TopTokens.Count > 0 ? TopTokens(step.Token) : null,
                    GeneratedText = final is null ? null : (fullText ? final.PromptText : "") + final.GeneratedText,
                    Details = final is null ? null
                        : new TgiStreamDetails(Generating.FinishName(final.FinishReason), final.GeneratedTokens, final.Seed, final.PromptIds.Count),
                };
                await Generating.WriteEventAsync(http, ServerContext.Json(response, TgiJsonContext.Default.TgiStreamResponse));
            }
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Vivace.Generation").LogError(e, "generation stream failed");
            await Generating.WriteEventAsync(http, Generating.ErrorEvent(e));
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the run was cancelled with its request.
        }
    }

    /// <summary>The Hugging Face Inference API's text-generation task: <c>[{"generated_text"}]</c>, the prompt
    /// included unless return_full_text is false. Deterministic requests (greedy, or seeded) may come from the cache.</summary>
    public static async Task<IResult> HfTextGenerationAsync(HttpContext http, ServerContext server, string modelId, byte[] body)
    {
        HfGenerationRequest request = ServerContext.Parse(body, TgiJsonContext.Default.HfGenerationRequest);
        string prompt = Generating.Prompt(request.Inputs, "inputs");
        HfGenerationParameters p = request.Parameters ?? new HfGenerationParameters();
        if (p.NumReturnSequences is int n && n != 1)
            throw ApiException.Unprocessable($"'num_return_sequences' must be 1 (one sequence per request). Given: {n}", "num_return_sequences");
        LoadedModel model = await Generating.ModelAsync(http, server, modelId,
            ServerContext.WaitForModel(http, request.Options?.WaitForModel, fallback: false));
        var generation = new GenerationRequest
        {
            Prompt = prompt,
            MaxNewTokens = p.MaxNewTokens,
            Sampling = Generating.TgiSampling(p.DoSample, p.Temperature, p.TopK, p.TopP, p.TypicalP, p.RepetitionPenalty, null, p.Seed, 0),
            Stop = Generating.Stops(p.Stop, "stop"),
            Truncate = Generating.Truncate(p.Truncate, model.Generator!, "truncate"),
        };
        bool fullText = p.ReturnFullText ?? true;
        bool deterministic = generation.Sampling.IsGreedy || p.Seed is not null;
        return await server.CachedAsync(http, TextGeneration, model.Id, body, deterministic && ServerContext.UseCache(http, request.Options?.UseCache), async () =>
        {
            GenerationRun run = await Generating.StartAsync(http, server, model, generation);
            GenerationResult result = await run.ResultAsync(http.RequestAborted);
            run.SetHeaders(http, result);
            return ServerContext.Json(new[] { new HfGeneratedText((fullText ? result.PromptText : "") + result.GeneratedText) },
                TgiJsonContext.Default.HfGeneratedTextArray);
        });
    }

    /// <summary>TGI's /info for a generation model.</summary>
    public static TgiInfo Info(ServerContext server, LoadedModel model) => new()
    {
        ModelId = model.Id,
        ModelDtype = "float32",
        ModelDeviceType = "cpu",
        MaxConcurrentRequests = server.Options.MaxConcurrentRequests,
        MaxStopSequences = Generating.MaxStopSequences,
        MaxInputTokens = model.Generator!.MaxTotalTokens - 1,
        MaxTotalTokens = model.Generator.MaxTotalTokens,
        ValidationWorkers = Environment.ProcessorCount,
        Version = TeiToolRoutes.Version.Number,
        Sha = TeiToolRoutes.Version.Commit,
    };
}
