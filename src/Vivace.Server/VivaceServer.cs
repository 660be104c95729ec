using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Vivace.Engine;

namespace Vivace.Server;

/// <summary>Builds the HTTP server over loaded models. Client mistakes become 4xx JSON errors, never 500s.</summary>
public static class VivaceServer
{
    public static WebApplication Build(ServedModels models, ServerOptions options, string[]? args = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJsonContext.Default));

        WebApplication app = builder.Build();
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception e) when (ToClientError(e) is (int status, ApiError error))
            {
                if (context.Response.HasStarted) throw;
                context.Response.Clear();
                context.Response.StatusCode = status;
                await context.Response.WriteAsJsonAsync(error, ServerJsonContext.Default.ApiError);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away; nobody is left to answer.
            }
        });
        Endpoints.Map(app, models, options);
        return app;
    }

    private static (int, ApiError)? ToClientError(Exception e) => e switch
    {
        ApiException api => (api.Status, new ApiError(api.Message, api.ErrorType)),
        InvalidInputException invalid => (invalid.TooLong ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status422UnprocessableEntity,
            new ApiError(invalid.Message, "Validation")),
        BadHttpRequestException bad => (bad.StatusCode, new ApiError(bad.Message, bad.StatusCode == 413 ? "Validation" : "bad_request")),
        _ => null,
    };
}
