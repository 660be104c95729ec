using Vivace.Engine;

namespace Vivace.Server;

/// <summary>
/// Text Embeddings Inference: <c>POST /embed</c> (inputs as a string, a list, or token ids; normalize, truncate,
/// truncation_direction, dimensions, prompt_name), and the operational routes <c>/health</c> and <c>/metrics</c>.
/// TEI serves one model: these routes use the server's first.
/// </summary>
public static class TeiRoutes
{
    public static void Map(IEndpointRouteBuilder app, ServerContext server)
    {
        app.MapGet("/health", () =>
        {
            var loaded = server.Models.Loaded.Select(m => m.Id).ToArray();
            bool ready = server.Models.IsLoaded(server.Models.DefaultId);
            return Results.Json(new HealthResponse(ready ? "ok" : "loading", server.Models.Ids.ToArray(), loaded),
                ServerJsonContext.Default.HealthResponse, statusCode: ready ? 200 : 503);
        });

        app.MapGet("/metrics", async (HttpContext http) =>
        {
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await server.Metrics.WriteAsync(http.Response.Body, http.RequestAborted);
        });

        app.MapPost("/embed", async (HttpContext http) =>
        {
            byte[] body = await ServerContext.ReadBodyAsync(http);
            TeiEmbedRequest request = ServerContext.Parse(body, ServerJsonContext.Default.TeiEmbedRequest);
            LoadedModel model = await server.Models.GetAsync(null, ServerContext.WaitForModel(http, null, fallback: true), http.RequestAborted);
            bool normalize = request.Normalize ?? true;
            EmbedOptions options = EmbedOptionsReader.Read(normalize, request.Truncate ?? false, request.TruncationDirection, request.PromptName);
            return await server.CachedAsync(http, "embed", model.Id, body, ServerContext.UseCache(http, null), async () =>
            {
                EmbedInputs inputs = Inputs.Read(request.Inputs, "inputs", server.Options, allowTokenIds: true);
                float[][] vectors = (await Embedding.RunAsync(http, server, model, inputs, options)).Vectors;
                vectors = Embedding.Cut(vectors, request.Dimensions, model.RequireEmbedder().Dimensions, normalize);
                return ServerContext.Json(vectors, ServerJsonContext.Default.SingleArrayArray);
            });
        });
    }
}
