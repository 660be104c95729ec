using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Vivace.Engine;

namespace Vivace.Server;

/// <summary>
/// What happens around every request, outermost first: a request id (the client's x-request-id, else a new one)
/// echoed back; one structured log line and the request metrics; client errors turned into each dialect's error
/// body (4xx, never a stack trace); then, for inference routes, the API key check and admission (429 beyond
/// the concurrent-request limit).
/// </summary>
public static class RequestPipeline
{
    /// <summary>Routes open without a key and outside admission: probes and scrapes must work under load.</summary>
    private static bool IsOperational(PathString path) => path == "/health" || path == "/metrics";

    public static void Use(WebApplication app, ServerContext server)
    {
        ILogger log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Vivace.Requests");
        byte[][] keyHashes = server.Options.ApiKeys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
        int inFlight = 0;

        app.Use(async (http, next) =>
        {
            string requestId = http.Request.Headers.TryGetValue("x-request-id", out var given) && given.Count > 0 && given[0]!.Length is > 0 and <= 200
                ? given[0]! : Guid.NewGuid().ToString("N");
            http.Response.Headers["x-request-id"] = requestId;
            long start = Stopwatch.GetTimestamp();
            try
            {
                await next(http);
            }
            finally
            {
                TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                string route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                int status = http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted ? 499 : http.Response.StatusCode;
                server.Metrics.Requests.WithLabels(route, status.ToString()).Inc();
                server.Metrics.RequestSeconds.WithLabels(route).Observe(elapsed.TotalSeconds);
                if (!IsOperational(http.Request.Path))
                    log.LogInformation("{Method} {Path} {Status} in {ElapsedMs:F1} ms, request {RequestId}",
                        http.Request.Method, http.Request.Path.Value, status, elapsed.TotalMilliseconds, requestId);
            }
        });

        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (Exception e) when (ToClientError(e, http) is ApiException error)
            {
                if (http.Response.HasStarted) throw;
                await WriteErrorAsync(http, error);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                // The client went away (its queued work was dropped); nobody is left to answer.
            }
            catch (Exception e) when (!http.Response.HasStarted)
            {
                // A fault of the server or a model (a file that fails to load, a bug): logged here with its stack,
                // answered as a plain 500 JSON error without it.
                log.LogError(e, "{Method} {Path} failed", http.Request.Method, http.Request.Path.Value);
                await WriteErrorAsync(http, new ApiException(StatusCodes.Status500InternalServerError,
                    "the server failed to answer this request; the error is in its log", "internal"));
            }
        });

        app.UseRouting();

        app.Use(async (http, next) =>
        {
            if (IsOperational(http.Request.Path) || http.GetEndpoint() is null)
            {
                await next(http);
                return;
            }
            if (keyHashes.Length > 0 && !Authorized(http, keyHashes))
                throw ApiException.Unauthorized("a valid API key is required: send 'Authorization: Bearer <key>'");
            if (Interlocked.Increment(ref inFlight) > server.Options.MaxConcurrentRequests)
            {
                Interlocked.Decrement(ref inFlight);
                throw ApiException.Overloaded($"the server is at its limit of {server.Options.MaxConcurrentRequests} concurrent requests; retry later");
            }
            server.Metrics.InFlight.Inc();
            try
            {
                await next(http);
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
                server.Metrics.InFlight.Dec();
            }
        });
    }

    /// <summary>Compares the bearer token with every key in constant time (hashes of equal length, no early exit).</summary>
    private static bool Authorized(HttpContext http, byte[][] keyHashes)
    {
        string header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        byte[] token = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        bool match = false;
        foreach (byte[] key in keyHashes) match |= CryptographicOperations.FixedTimeEquals(token, key);
        return match;
    }

    /// <summary>The client error an exception stands for, or null for a server fault (which stays a 500).</summary>
    private static ApiException? ToClientError(Exception e, HttpContext http) => e switch
    {
        ApiException api => api,
        // An input longer than the model takes (and truncation off) is a validation error: 422, as TEI answers;
        // 413 stays for what is too large to read at all (body size, input count).
        InvalidInputException invalid => ApiException.Unprocessable(invalid.Message,
            http.Request.Path.StartsWithSegments("/v1/completions") ? "prompt" : IsOpenAi(http) ? "input" : "inputs"),
        BadHttpRequestException bad => new ApiException(bad.StatusCode, bad.Message, bad.StatusCode == 413 ? "Validation" : "bad_request"),
        _ => null,
    };

    /// <summary>OpenAI routes answer with OpenAI's error object; the others with <c>{"error", "error_type"}</c>.</summary>
    private static Task WriteErrorAsync(HttpContext http, ApiException error)
    {
        // Clear drops every header set so far: keep the request id, and add the challenge a 401 must carry.
        var requestId = http.Response.Headers["x-request-id"];
        http.Response.Clear();
        http.Response.Headers["x-request-id"] = requestId;
        if (error.Status == StatusCodes.Status401Unauthorized) http.Response.Headers.WWWAuthenticate = "Bearer";
        http.Response.StatusCode = error.Status;
        if (IsOpenAi(http))
        {
            var body = new OpenAiErrorBody(new OpenAiError(error.Message, OpenAiType(error.Status), error.Param, error.ErrorType));
            return http.Response.WriteAsJsonAsync(body, ServerJsonContext.Default.OpenAiErrorBody);
        }
        // TGI's routes name error types in lower case ("validation", "overloaded"), as TGI's ErrorResponse does.
        string type = IsTgi(http) ? error.ErrorType.ToLowerInvariant() : error.ErrorType;
        return http.Response.WriteAsJsonAsync(new ApiError(error.Message, type) { EstimatedTime = error.EstimatedTime },
            ServerJsonContext.Default.ApiError);
    }

    private static bool IsOpenAi(HttpContext http) => http.Request.Path.StartsWithSegments("/v1");

    private static bool IsTgi(HttpContext http) =>
        http.Request.Path.Value is "/generate" or "/generate_stream" or "/" && HttpMethods.IsPost(http.Request.Method);

    /// <summary>OpenAI's error "type" for a status (an unknown model is an invalid request there, as any 404).</summary>
    private static string OpenAiType(int status) => status switch
    {
        401 => "authentication_error",
        429 => "rate_limit_error",
        503 => "server_error",
        _ => "invalid_request_error",
    };
}
