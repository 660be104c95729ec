using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Vivace.Engine;
using Vivace.Engine.Batching;
using Vivace.Engine.Generation;

namespace Vivace.Server;

/// <summary>
/// What the generation routes of every dialect share: finding the generation model, mapping sampling switches,
/// queueing a request on the model's <see cref="GenerationScheduler"/> and reading its steps back (recording the
/// generation metrics), TGI's timing headers, and server-sent events.
/// </summary>
public static class Generating
{
    /// <summary>Stop sequences per request at most (TGI's default max_stop_sequences; OpenAI allows 4 too).</summary>
    public const int MaxStopSequences = 4;

    /// <summary>The model a generation route runs on: the one named, or (TGI routes, which name none) the server's
    /// first text-generation model. An embedding model is a 400 that says what it does.</summary>
    public static async Task<LoadedModel> ModelAsync(HttpContext http, ServerContext server, string? id, bool wait)
    {
        if (id is null)
        {
            ModelRegistry models = server.Models;
            id = models.Ids.FirstOrDefault(m => models.KindOf(m) == ModelKind.Generation)
                ?? throw ApiException.BadRequest($"this server serves no text-generation model (served: {string.Join(", ", models.Ids)}, " +
                    "all embedding models); use /embed or /v1/embeddings", "model");
        }
        LoadedModel model = await server.Models.GetAsync(id, wait, http.RequestAborted);
        model.RequireGenerator();
        return model;
    }

    /// <summary>
    /// Sampling as TGI decides it: on when do_sample is set or any warper changes the distribution (temperature != 1,
    /// top_k > 0, top_p &lt; 1, typical_p &lt; 1). Temperature 0 is greedy; a negative one is a 422 (the engine's check).
    /// </summary>
    public static SamplingParameters TgiSampling(bool? doSample, float? temperature, int? topK, float? topP, float? typicalP,
        float? repetitionPenalty, float? frequencyPenalty, ulong? seed, int topNTokens)
    {
        bool sample = doSample == true || temperature is float t && t != 1f || topK is > 0 || topP is < 1f || typicalP is < 1f;
        return new SamplingParameters
        {
            DoSample = sample,
            Temperature = temperature ?? 1f,
            TopK = topK,
            TopP = topP,
            TypicalP = typicalP,
            RepetitionPenalty = repetitionPenalty,
            FrequencyPenalty = frequencyPenalty,
            Seed = seed,
            TopNTokens = topNTokens,
        };
    }

    /// <summary>A stop list: at most <see cref="MaxStopSequences"/>, none empty.</summary>
    public static IReadOnlyList<string> Stops(IReadOnlyList<string?>? stop, string field)
    {
        if (stop is null) return [];
        if (stop.Count > MaxStopSequences)
            throw ApiException.Unprocessable($"'{field}' supports up to {MaxStopSequences} stop sequences. Given: {stop.Count}", field);
        foreach (string? s in stop)
            if (string.IsNullOrEmpty(s)) throw ApiException.Unprocessable($"'{field}' cannot hold an empty or null stop sequence", field);
        return stop!;
    }

    /// <summary>A prompt given as one non-empty string.</summary>
    public static string Prompt(JsonElement inputs, string field) => inputs.ValueKind switch
    {
        JsonValueKind.String => Inputs.Text(inputs, field),
        JsonValueKind.Undefined => throw ApiException.Unprocessable($"missing field '{field}'", field),
        _ => throw ApiException.Unprocessable($"'{field}' must be a string (one prompt), not {inputs.ValueKind.ToString().ToLowerInvariant()}", field),
    };

    /// <summary>TGI's truncate: positive and below the model's context.</summary>
    public static int? Truncate(int? truncate, TextGenerator generator, string field)
    {
        if (truncate is int t && (t <= 0 || t >= generator.MaxTotalTokens))
            throw ApiException.Unprocessable($"'{field}' must be strictly positive and less than {generator.MaxTotalTokens}. Given: {t}", field);
        return truncate;
    }

    /// <summary>Queues the request on the model (validating it first: a bad one throws here, before any answer is
    /// started) and returns the run to read.</summary>
    public static async Task<GenerationRun> StartAsync(HttpContext http, ServerContext server, LoadedModel model, GenerationRequest request)
    {
        long arrived = Stopwatch.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                GenerationTicket ticket = model.Scheduler!.Enqueue(request, http.RequestAborted);
                return new GenerationRun(server, model, ticket, arrived);
            }
            catch (ObjectDisposedException) when (attempt < 3)
            {
                // Unloaded (memory budget) after this request looked it up and before it queued: load it again.
                model = await server.Models.GetAsync(model.Id, wait: true, http.RequestAborted);
            }
        }
    }

    /// <summary>TGI's finish_reason names.</summary>
    public static string FinishName(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.EosToken => "eos_token",
        _ => "stop_sequence",
    };

    /// <summary>Starts a server-sent event stream: the headers go out now (flushed: StartAsync alone leaves them in
    /// Kestrel's buffer), so a client whose request waits in the queue knows it was accepted.</summary>
    public static async Task StartEventsAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["x-accel-buffering"] = "no";
        http.Response.Headers["x-compute-type"] = "cpu";
        await http.Response.StartAsync(http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    /// <summary>Writes one event, <c>data:{payload}</c> (TGI writes no space after the colon; OpenAI one), and flushes it.</summary>
    public static async Task WriteEventAsync(HttpContext http, byte[] payload, bool space = false)
    {
        await http.Response.Body.WriteAsync(space ? "data: "u8.ToArray() : "data:"u8.ToArray(), http.RequestAborted);
        await http.Response.Body.WriteAsync(payload, http.RequestAborted);
        await http.Response.Body.WriteAsync("\n\n"u8.ToArray(), http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    /// <summary>What a stream that already started says when generation fails: TGI's error event.</summary>
    public static byte[] ErrorEvent(Exception e) => JsonSerializer.SerializeToUtf8Bytes(
        e is ApiException api ? new ApiError(api.Message, api.ErrorType) : new ApiError("generation failed; the error is in the server's log", "generation"),
        TgiJsonContext.Default.ApiError);

    internal static string Milliseconds(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}

/// <summary>One queued generation: its steps as they come, and its timing for headers and metrics.</summary>
public sealed class GenerationRun(ServerContext server, LoadedModel model, GenerationTicket ticket, long arrived)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public LoadedModel Model => model;
    public TimeSpan QueueTime => ticket.QueueTime;

    /// <summary>The steps as the worker makes them; a failure of the generation is rethrown as itself.</summary>
    public async IAsyncEnumerable<GenerationStep> StepsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        ChannelReader<GenerationStep> reader = ticket.Steps;
        while (true)
        {
            bool more;
            try
            {
                more = await reader.WaitToReadAsync(cancellation);
            }
            catch (ChannelClosedException e) when (e.InnerException is { } inner)
            {
                ExceptionDispatchInfo.Throw(inner);
                throw;
            }
            if (!more) yield break;
            while (reader.TryRead(out GenerationStep? step))
            {
                Observe(step);
                yield return step;
            }
        }
    }

    /// <summary>Reads to the end and returns the result.</summary>
    public async Task<GenerationResult> ResultAsync(CancellationToken cancellation)
    {
        GenerationResult? result = null;
        await foreach (GenerationStep step in StepsAsync(cancellation)) result = step.Final ?? result;
        return result ?? throw new InvalidOperationException("generation ended without a result");
    }

    private void Observe(GenerationStep step)
    {
        ServerMetrics metrics = server.Metrics;
        if (step.Index == 0)
        {
            metrics.TimeToFirstToken.WithLabels(model.Id).Observe(Stopwatch.GetElapsedTime(arrived).TotalSeconds);
            metrics.QueueSeconds.WithLabels(model.Id).Observe(ticket.QueueTime.TotalSeconds);
        }
        if (step.Final is { } result)
        {
            metrics.GeneratedTokens.WithLabels(model.Id).Inc(result.GeneratedTokens);
            if (result.GeneratedTokens > 1)
                metrics.TimePerOutputToken.WithLabels(model.Id).Observe(result.DecodeTime.TotalSeconds / (result.GeneratedTokens - 1));
        }
    }

    /// <summary>TGI's response headers (times in milliseconds), for answers sent whole.</summary>
    public void SetHeaders(HttpContext http, GenerationResult result)
    {
        var headers = http.Response.Headers;
        TimeSpan inference = result.PrefillTime + result.DecodeTime;
        headers["x-compute-type"] = "cpu";
        headers["x-compute-time"] = _clock.Elapsed.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture);
        headers["x-compute-characters"] = result.PromptText.Length.ToString(CultureInfo.InvariantCulture);
        headers["x-total-time"] = Generating.Milliseconds(_clock.Elapsed);
        headers["x-queue-time"] = Generating.Milliseconds(ticket.QueueTime);
        headers["x-inference-time"] = Generating.Milliseconds(inference);
        headers["x-time-per-token"] = Generating.Milliseconds(result.GeneratedTokens > 0 ? inference / result.GeneratedTokens : TimeSpan.Zero);
        headers["x-prompt-tokens"] = result.PromptIds.Count.ToString(CultureInfo.InvariantCulture);
        headers["x-generated-tokens"] = result.GeneratedTokens.ToString(CultureInfo.InvariantCulture);
    }
}
