using System.Text.Json;
using Vivace.Engine;

namespace Vivace.Server;

/// <summary>
/// The Hugging Face Inference API: <c>POST /models/{model_id}</c> (the task follows from the inputs' shape) and
/// <c>POST /pipeline/{task}/{model_id}</c>, with <c>{"inputs", "parameters", "options"}</c>. Tasks now:
/// feature-extraction (a string gives one vector, a list a list of vectors) and sentence-similarity
/// (<c>{"source_sentence", "sentences"}</c> gives one cosine similarity per sentence). A model still loading
/// answers 503 with <c>estimated_time</c> unless the request waits for it.
/// </summary>
public static class HfRoutes
{
    public const string FeatureExtraction = "feature-extraction", SentenceSimilarity = "sentence-similarity";

    public static void Map(IEndpointRouteBuilder app, ServerContext server)
    {
        app.MapPost("/models/{**modelId}", (HttpContext http, string modelId) => RunAsync(http, server, modelId, task: null));
        app.MapPost("/pipeline/{task}/{**modelId}", (HttpContext http, string task, string modelId) => RunAsync(http, server, modelId, task));
    }

    private static async Task<IResult> RunAsync(HttpContext http, ServerContext server, string modelId, string? task)
    {
        byte[] body = await ServerContext.ReadBodyAsync(http);
        // The task follows from the model when the path does not name it: a generation model generates.
        ModelKind kind = server.Models.KindOf(modelId);
        if (task == TgiRoutes.TextGeneration || (task is null && kind == ModelKind.Generation))
        {
            if (kind != ModelKind.Generation)
                throw ApiException.BadRequest($"model '{server.Models.Resolve(modelId)}' is an embedding model (tasks: {FeatureExtraction}, {SentenceSimilarity}), not a {TgiRoutes.TextGeneration} model", "task");
            return await TgiRoutes.HfTextGenerationAsync(http, server, modelId, body);
        }
        if (kind == ModelKind.Generation)
            throw ApiException.BadRequest($"model '{server.Models.Resolve(modelId)}' is a {TgiRoutes.TextGeneration} model; task '{task}' needs an embedding model", "task");
        HfInferenceRequest request = ServerContext.Parse(body, ServerJsonContext.Default.HfInferenceRequest);
        task ??= request.Inputs.ValueKind == JsonValueKind.Object ? SentenceSimilarity : FeatureExtraction;
        if (task is not (FeatureExtraction or SentenceSimilarity))
            throw ApiException.BadRequest($"task '{task}' is not served here (tasks: {FeatureExtraction}, {SentenceSimilarity}, {TgiRoutes.TextGeneration})", "task");
        string id = server.Models.Resolve(modelId);
        LoadedModel model = await server.Models.GetAsync(id, ServerContext.WaitForModel(http, request.Options?.WaitForModel, fallback: false), http.RequestAborted);
        HfParameters p = request.Parameters ?? new HfParameters();
        EmbedOptions options = EmbedOptionsReader.Read(p.Normalize, p.Truncate ?? true, p.TruncationDirection, p.PromptName);
        bool useCache = ServerContext.UseCache(http, request.Options?.UseCache);
        return await server.CachedAsync(http, task, model.Id, body, useCache, async () => task == FeatureExtraction
            ? await FeatureExtractionAsync(http, server, model, request.Inputs, options)
            : await SimilarityAsync(http, server, model, request.Inputs, options));
    }

    private static async Task<byte[]> FeatureExtractionAsync(HttpContext http, ServerContext server, LoadedModel model, JsonElement inputs, EmbedOptions options)
    {
        EmbedInputs read = Inputs.Read(inputs, "inputs", server.Options, allowTokenIds: false);
        float[][] vectors = (await Embedding.RunAsync(http, server, model, read, options)).Vectors;
        return read.Single
            ? ServerContext.Json(vectors[0], ServerJsonContext.Default.SingleArray)
            : ServerContext.Json(vectors, ServerJsonContext.Default.SingleArrayArray);
    }

    private static async Task<byte[]> SimilarityAsync(HttpContext http, ServerContext server, LoadedModel model, JsonElement inputs, EmbedOptions options)
    {
        float[] scores = await Similarity.ScoresAsync(http, server, model, inputs, options);
        return ServerContext.Json(scores, ServerJsonContext.Default.SingleArray);
    }
}

/// <summary>sentence-similarity, shared by the HF and TEI routes: the cosine similarity of the source sentence
/// with each of the sentences, all embedded in one request.</summary>
public static class Similarity
{
    public static async Task<float[]> ScoresAsync(HttpContext http, ServerContext server, LoadedModel model, JsonElement inputs, EmbedOptions options)
    {
        if (inputs.ValueKind != JsonValueKind.Object)
            throw ApiException.Unprocessable("sentence-similarity 'inputs' must be an object {\"source_sentence\", \"sentences\"}", "inputs");
        if (!inputs.TryGetProperty("source_sentence", out JsonElement source) || source.ValueKind != JsonValueKind.String)
            throw ApiException.Unprocessable("'inputs.source_sentence' must be a string", "inputs.source_sentence");
        if (!inputs.TryGetProperty("sentences", out JsonElement sentences) || sentences.ValueKind != JsonValueKind.Array)
            throw ApiException.Unprocessable("'inputs.sentences' must be a list of strings", "inputs.sentences");
        EmbedInputs others = Inputs.Read(sentences, "inputs.sentences", server.Options with { MaxInputsPerRequest = server.Options.MaxInputsPerRequest - 1 }, allowTokenIds: false);
        var all = new List<string>(others.Count + 1) { Inputs.Text(source, "inputs.source_sentence") };
        all.AddRange(others.Texts!);
        float[][] vectors = (await Embedding.RunAsync(http, server, model, new EmbedInputs(all, null, false), options with { Normalize = true })).Vectors;
        var scores = new float[others.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            double dot = 0;
            for (int j = 0; j < vectors[0].Length; j++) dot += (double)vectors[0][j] * vectors[i + 1][j];
            scores[i] = (float)dot;
        }
        return scores;
    }
}
