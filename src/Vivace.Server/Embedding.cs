using System.Diagnostics;
using System.Globalization;
using Vivace.Engine;
using Vivace.Engine.Batching;
using Vivace.Models.SentenceTransformers;

namespace Vivace.Server;

/// <summary>One embedding request through a model: tokenize (on the request's thread, so tokenization runs in
/// parallel), wait in the model's batching queue, and report where the time went in the response headers.</summary>
public static class Embedding
{
    public static async Task<EmbedResult> RunAsync(HttpContext http, ServerContext server, LoadedModel model, EmbedInputs inputs, EmbedOptions options)
    {
        long start = Stopwatch.GetTimestamp();
        SentenceEmbedder embedder = model.RequireEmbedder();
        IReadOnlyList<int[]> ids;
        if (inputs.Texts is { } texts)
        {
            var tokenized = new int[texts.Count][];
            for (int i = 0; i < texts.Count; i++)
            {
                try { tokenized[i] = embedder.TokenizeIds(texts[i], options); }
                catch (InvalidInputException e) when (texts.Count > 1)
                {
                    throw new InvalidInputException($"input {i}: {e.Message}", e.TooLong);
                }
            }
            ids = tokenized;
        }
        else ids = inputs.Ids!;
        TimeSpan tokenization = Stopwatch.GetElapsedTime(start);

        EmbedResult result;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                result = await model.Queue!.EmbedAsync(ids, options.Normalize, http.RequestAborted);
                break;
            }
            catch (ObjectDisposedException) when (attempt < 3)
            {
                // Unloaded (memory budget) after this request looked it up and before it queued: load it again and
                // queue there; the ids stand, a model reloads with the same tokenizer. A stopped registry throws here.
                model = await server.Models.GetAsync(model.Id, wait: true, http.RequestAborted);
            }
        }
        server.Metrics.QueueSeconds.WithLabels(model.Id).Observe(result.QueueTime.TotalSeconds);
        var headers = http.Response.Headers;
        headers["x-compute-type"] = "cpu";
        headers["x-compute-time"] = Stopwatch.GetElapsedTime(start).TotalSeconds.ToString("F6", CultureInfo.InvariantCulture);
        headers["x-compute-characters"] = inputs.Characters.ToString(CultureInfo.InvariantCulture);
        headers["x-compute-tokens"] = result.Tokens.ToString(CultureInfo.InvariantCulture);
        headers["x-tokenization-time"] = Milliseconds(tokenization);
        headers["x-queue-time"] = Milliseconds(result.QueueTime);
        headers["x-inference-time"] = Milliseconds(result.InferenceTime);
        return result;
    }

    /// <summary>The first <paramref name="dimensions"/> of each vector (Matryoshka models), L2-normalized again when
    /// the request wants normalized vectors.</summary>
    public static float[][] Cut(float[][] vectors, int? dimensions, int modelDimensions, bool normalize, string field = "dimensions")
    {
        if (dimensions is not int d) return vectors;
        if (d <= 0 || d > modelDimensions)
            throw ApiException.Unprocessable($"'{field}' must be between 1 and the model's {modelDimensions}, not {d}", field);
        if (d == modelDimensions) return vectors;
        var cut = new float[vectors.Length][];
        for (int i = 0; i < vectors.Length; i++)
        {
            cut[i] = vectors[i][..d];
            if (normalize) Pooling.Normalize(cut[i]);
        }
        return cut;
    }

    private static string Milliseconds(TimeSpan t) => t.TotalMilliseconds.ToString("F3", CultureInfo.InvariantCulture);
}
