using System.Buffers.Binary;
using Vivace.Engine;
using Vivace.Engine.Batching;

namespace Vivace.Server;

/// <summary>
/// The OpenAI API's embedding surface: <c>POST /v1/embeddings</c> (input as a string, a list of strings, token
/// ids or lists of them; encoding_format float or base64; dimensions) and <c>GET /v1/models[/{id}]</c>. Errors
/// under /v1 get OpenAI's error object (the request pipeline writes it); the field at fault goes in "param".
/// </summary>
public static class OpenAiRoutes
{
    private const string Float = "float", Base64 = "base64";

    public static void Map(IEndpointRouteBuilder app, ServerContext server)
    {
        // OpenAI's "created" is when the model was made; ours is when this server started serving it, fixed
        // so that clients that compare listings see no change.
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        app.MapGet("/v1/models", () => Results.Json(
            new OpenAiModelList(server.Models.Ids.Select(id => new OpenAiModel(id, created)).ToArray()),
            OpenAiJsonContext.Default.OpenAiModelList));

        app.MapGet("/v1/models/{**modelId}", (string modelId) => Results.Json(
            new OpenAiModel(ResolveModel(server, modelId), created), OpenAiJsonContext.Default.OpenAiModel));

        // The explicit return type keeps the handler off the RequestDelegate overload, which would drop its IResult.
        app.MapPost("/v1/embeddings", Task<IResult> (HttpContext http) => EmbeddingsAsync(http, server));
    }

    private static async Task<IResult> EmbeddingsAsync(HttpContext http, ServerContext server)
    {
        byte[] body = await ServerContext.ReadBodyAsync(http);
        OpenAiEmbeddingRequest request = ServerContext.Parse(body, OpenAiJsonContext.Default.OpenAiEmbeddingRequest);
        string format = request.EncodingFormat ?? Float;
        if (format is not (Float or Base64))
            throw ApiException.Unprocessable($"'encoding_format' must be \"{Float}\" or \"{Base64}\", not \"{format}\"", "encoding_format");
        string id = ResolveModel(server, request.Model);
        // OpenAI clients know nothing of wait_for_model: a loading model is waited for unless the header says otherwise.
        LoadedModel model = await server.Models.GetAsync(id, ServerContext.WaitForModel(http, null, fallback: true), http.RequestAborted);
        return await server.CachedAsync(http, "v1/embeddings", model.Id, body, ServerContext.UseCache(http, null), async () =>
        {
            EmbedInputs inputs = Inputs.Read(request.Input, "input", server.Options, allowTokenIds: true);
            // OpenAI does not cut long inputs (it answers an error), and its vectors are unit length.
            EmbedOptions options = EmbedOptionsReader.Read(normalize: true, truncate: false, truncationDirection: null, promptName: null);
            EmbedResult result = await Embedding.RunAsync(http, server, model, inputs, options);
            float[][] vectors = Embedding.Cut(result.Vectors, request.Dimensions, model.RequireEmbedder().Dimensions, normalize: true);
            var usage = new OpenAiUsage(result.Tokens, result.Tokens);
            return format == Base64
                ? ServerContext.Json(new OpenAiEmbeddingList<string>(
                    vectors.Select((v, i) => new OpenAiEmbedding<string>(ToBase64(v), i)).ToArray(), model.Id, usage),
                    OpenAiJsonContext.Default.OpenAiEmbeddingListString)
                : ServerContext.Json(new OpenAiEmbeddingList<float[]>(
                    vectors.Select((v, i) => new OpenAiEmbedding<float[]>(v, i)).ToArray(), model.Id, usage),
                    OpenAiJsonContext.Default.OpenAiEmbeddingListSingleArray);
        });
    }

    /// <summary>The served id that <paramref name="requested"/> names (absent or empty: the default model); an
    /// unknown model is 404 with OpenAI's code for it.</summary>
    private static string ResolveModel(ServerContext server, string? requested)
    {
        try
        {
            return server.Models.Resolve(requested);
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            throw new ApiException(e.Status, e.Message, "model_not_found") { Param = "model" };
        }
    }

    /// <summary>OpenAI's base64 encoding: the vector's float32 values as little-endian bytes, whatever this machine's order.</summary>
    private static string ToBase64(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (int i = 0; i < vector.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        return Convert.ToBase64String(bytes);
    }
}
