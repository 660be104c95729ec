using System.Reflection;
using System.Text.Json;
using Vivace.Engine;
using Vivace.Models.SentenceTransformers;
using TokenEncoding = Vivace.Tokenizers.Encoding;

namespace Vivace.Server;

/// <summary>
/// Text Embeddings Inference's routes around <c>/embed</c>: <c>POST /similarity</c> (cosine similarity of a
/// source sentence with each of the sentences), <c>POST /tokenize</c> (tokens with their UTF-8 byte spans),
/// <c>POST /decode</c> (ids back to text) and <c>GET /info</c>. Like TEI, they serve one model: the server's first.
/// </summary>
public static class TeiToolRoutes
{
    public static void Map(IEndpointRouteBuilder app, ServerContext server)
    {
        // The explicit return types keep these handlers off the RequestDelegate overload, which would drop their IResult.
        app.MapPost("/similarity", Task<IResult> (HttpContext http) => SimilarityAsync(http, server));
        app.MapPost("/tokenize", Task<IResult> (HttpContext http) => TokenizeAsync(http, server));
        app.MapPost("/decode", Task<IResult> (HttpContext http) => DecodeAsync(http, server));
        app.MapGet("/info", async Task<IResult> (HttpContext http) =>
        {
            LoadedModel model = await DefaultModelAsync(http, server);
            // A generation model is described as TGI describes itself; an embedding model as TEI does.
            return model.Generator != null
                ? Results.Json(TgiRoutes.Info(server, model), TgiJsonContext.Default.TgiInfo)
                : Results.Json(Info(server, model), TeiToolJsonContext.Default.TeiInfo);
        });
    }

    /// <summary>TEI waits for its model; so do these routes, unless the x-wait-for-model header says not to.</summary>
    private static Task<LoadedModel> DefaultModelAsync(HttpContext http, ServerContext server) =>
        server.Models.GetAsync(null, ServerContext.WaitForModel(http, null, fallback: true), http.RequestAborted);

    private static async Task<IResult> SimilarityAsync(HttpContext http, ServerContext server)
    {
        byte[] body = await ServerContext.ReadBodyAsync(http);
        TeiSimilarityRequest request = ServerContext.Parse(body, TeiToolJsonContext.Default.TeiSimilarityRequest);
        LoadedModel model = await DefaultModelAsync(http, server);
        TeiSimilarityParameters? p = request.Parameters;
        // TEI's truncate defaults to its auto_truncate, which this server reports as false.
        EmbedOptions options = EmbedOptionsReader.Read(normalize: true, p?.Truncate ?? request.Truncate ?? false,
            p?.TruncationDirection ?? request.TruncationDirection, p?.PromptName ?? request.PromptName);
        return await server.CachedAsync(http, "similarity", model.Id, body, ServerContext.UseCache(http, null), async () =>
        {
            float[] scores = await Similarity.ScoresAsync(http, server, model, request.Inputs, options);
            return ServerContext.Json(scores, TeiToolJsonContext.Default.SingleArray);
        });
    }

    private static async Task<IResult> TokenizeAsync(HttpContext http, ServerContext server)
    {
        byte[] body = await ServerContext.ReadBodyAsync(http);
        TeiTokenizeRequest request = ServerContext.Parse(body, TeiToolJsonContext.Default.TeiTokenizeRequest);
        EmbedInputs inputs = Inputs.Read(request.Inputs, "inputs", server.Options, allowTokenIds: false);
        LoadedModel model = await DefaultModelAsync(http, server);
        // A generation model has no sentence-transformers prompts: its text is tokenized as given.
        string prompt = model.Embedder is { } embedder ? Prompt(embedder.Model.Config, request.PromptName) : "";
        bool addSpecialTokens = request.AddSpecialTokens ?? true;
        var answer = new TeiToken[inputs.Count][];
        for (int i = 0; i < answer.Length; i++)
        {
            // Offsets are into the text the tokenizer saw, prompt included, as TEI reports them.
            string text = prompt + inputs.Texts![i];
            answer[i] = Tokens(text, model.Tokenizer.Encode(text, addSpecialTokens));
        }
        return Results.Bytes(ServerContext.Json(answer, TeiToolJsonContext.Default.TeiTokenArrayArray), "application/json");
    }

    /// <summary>TEI's SimpleTokens: a special token shows itself with no span; any other token the part of the
    /// input it covers, with that part's UTF-8 byte offsets.</summary>
    private static TeiToken[] Tokens(string text, TokenEncoding encoding)
    {
        int[] byteAt = Utf8Offsets(text);
        var tokens = new TeiToken[encoding.Length];
        for (int t = 0; t < tokens.Length; t++)
        {
            if (encoding.SpecialTokensMask[t] == 1)
            {
                tokens[t] = new TeiToken(encoding.Ids[t], encoding.Tokens[t], true, null, null);
                continue;
            }
            (int start, int end) = encoding.Offsets[t];
            start = Math.Clamp(start, 0, text.Length);
            end = Math.Clamp(end, start, text.Length);
            tokens[t] = new TeiToken(encoding.Ids[t], text[start..end], false, byteAt[start], byteAt[end]);
        }
        return tokens;
    }

    /// <summary>For each UTF-16 position of <paramref name="text"/> (and its end), the UTF-8 byte offset there.
    /// A surrogate pair is 4 bytes; a lone surrogate 3 (UTF-8 encodes it as U+FFFD).</summary>
    private static int[] Utf8Offsets(string text)
    {
        var byteAt = new int[text.Length + 1];
        int bytes = 0;
        for (int i = 0; i < text.Length; i++)
        {
            byteAt[i] = bytes;
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                byteAt[++i] = bytes; // inside the pair: no UTF-8 boundary, the pair's start stands for it
                bytes += 4;
            }
            else bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
        }
        byteAt[text.Length] = bytes;
        return byteAt;
    }

    /// <summary>The prompt text <paramref name="promptName"/> names in the model's sentence-transformers config;
    /// without a name, the model's default prompt, if any (as embedding does).</summary>
    private static string Prompt(SentenceTransformerConfig config, string? promptName)
    {
        promptName ??= config.DefaultPromptName;
        if (promptName is null) return "";
        if (config.Prompts.TryGetValue(promptName, out string? prompt)) return prompt;
        throw ApiException.Unprocessable(config.Prompts.Count == 0
            ? $"prompt_name '{promptName}' given, but this model defines no prompts"
            : $"prompt_name '{promptName}' is not one of this model's prompts ({string.Join(", ", config.Prompts.Keys)})", "prompt_name");
    }

    private static async Task<IResult> DecodeAsync(HttpContext http, ServerContext server)
    {
        byte[] body = await ServerContext.ReadBodyAsync(http);
        TeiDecodeRequest request = ServerContext.Parse(body, TeiToolJsonContext.Default.TeiDecodeRequest);
        List<int[]> sequences = ReadIds(request.Ids, server.Options);
        LoadedModel model = await DefaultModelAsync(http, server);
        bool skipSpecialTokens = request.SkipSpecialTokens ?? true;
        // The tokenizer's decoder does its own cleanup (WordPiece "cleanup": true), as TEI's Rust tokenizer does.
        string[] texts = sequences.Select(ids => model.Tokenizer.Decode(ids, skipSpecialTokens)).ToArray();
        return Results.Bytes(ServerContext.Json(texts, TeiToolJsonContext.Default.StringArray), "application/json");
    }

    /// <summary>The ids field: one list of token ids, or a list of such lists (each may be empty: it decodes to "").</summary>
    private static List<int[]> ReadIds(JsonElement ids, ServerOptions options)
    {
        const string field = "ids";
        if (ids.ValueKind == JsonValueKind.Undefined) throw ApiException.Unprocessable($"missing field '{field}'", field);
        if (ids.ValueKind != JsonValueKind.Array)
            throw ApiException.Unprocessable($"'{field}' must be a list of token ids or a list of such lists", field);
        int count = ids.GetArrayLength();
        if (count == 0) throw ApiException.Unprocessable($"'{field}' cannot be empty", field);
        if (ids[0].ValueKind != JsonValueKind.Array) return [IdList(ids, field)];
        if (count > options.MaxInputsPerRequest)
            throw ApiException.TooLarge($"'{field}' has {count} lists; the maximum per request is {options.MaxInputsPerRequest}", field);
        var sequences = new List<int[]>(count);
        foreach (JsonElement list in ids.EnumerateArray())
        {
            if (list.ValueKind != JsonValueKind.Array)
                throw ApiException.Unprocessable($"'{field}' mixes lists and other values; item {sequences.Count} is not a list", field);
            sequences.Add(IdList(list, $"{field}[{sequences.Count}]"));
        }
        return sequences;
    }

    private static int[] IdList(JsonElement list, string field)
    {
        var ids = new int[list.GetArrayLength()];
        int i = 0;
        foreach (JsonElement e in list.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int id) || id < 0)
                throw ApiException.Unprocessable($"'{field}' must hold non-negative integer token ids; item {i} is {e.GetRawText()}", field);
            ids[i++] = id;
        }
        return ids;
    }

    private static TeiInfo Info(ServerContext server, LoadedModel model) => new()
    {
        // Only embedders come here (see /info).
        ModelId = model.Id,
        ModelDtype = "float32",
        ModelType = new TeiModelType(new TeiEmbeddingModel(PoolingName(model.Embedder!.Model.Config.Pooling))),
        MaxConcurrentRequests = server.Options.MaxConcurrentRequests,
        MaxInputLength = model.Embedder!.MaxInputTokens,
        MaxBatchTokens = server.Options.Batching.MaxBatchTokens,
        MaxBatchRequests = server.Options.Batching.MaxBatchRequests,
        MaxClientBatchSize = server.Options.MaxInputsPerRequest,
        AutoTruncate = false,
        // Tokenization runs on the request's own thread pool thread, so as many at once as there are cores.
        TokenizationWorkers = Environment.ProcessorCount,
        Version = Version.Number,
        Sha = Version.Commit,
    };

    /// <summary>TEI's names for the pooling modes (cls, mean, last_token); several modes at once are joined by '+'.</summary>
    private static string PoolingName(PoolingConfig pooling)
    {
        var modes = new List<string>();
        if (pooling.ClsToken) modes.Add("cls");
        if (pooling.MaxTokens) modes.Add("max");
        if (pooling.MeanTokens) modes.Add("mean");
        if (pooling.MeanSqrtLenTokens) modes.Add("mean_sqrt_len");
        if (pooling.WeightedMeanTokens) modes.Add("weighted_mean");
        if (pooling.LastToken) modes.Add("last_token");
        return string.Join('+', modes);
    }

    /// <summary>This build's version and, where the build stamped it ("1.0.0+sha"), its commit.</summary>
    internal static class Version
    {
        private static readonly string Informational =
            typeof(TeiToolRoutes).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(TeiToolRoutes).Assembly.GetName().Version?.ToString() ?? "0.0.0";

        public static string Number => Informational.Split('+')[0];
        public static string? Commit => Informational.Split('+') is [_, var sha, ..] ? sha : null;
    }
}
