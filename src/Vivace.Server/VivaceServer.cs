using Microsoft.Extensions.Logging.Console;

namespace Vivace.Server;

/// <summary>Builds the HTTP server: Kestrel, one route group per dialect, the request pipeline around them.
/// On SIGTERM the host stops accepting, lets in-flight requests finish (up to the shutdown timeout), then
/// stops the models' batching queues.</summary>
public static class VivaceServer
{
    public static WebApplication Build(ModelRegistry models, ServerOptions options, string[]? args = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        builder.Logging.ClearProviders();
        if (options.JsonLogs) builder.Logging.AddJsonConsole(o => o.IncludeScopes = false);
        else builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Vivace", LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJsonContext.Default));

        WebApplication app = builder.Build();
        var server = new ServerContext(models, options);
        server.Metrics.Observe(models);
        app.Lifetime.ApplicationStopped.Register(models.Dispose);

        RequestPipeline.Use(app, server);
        HfRoutes.Map(app, server);
        TeiRoutes.Map(app, server);
        TeiToolRoutes.Map(app, server);
        OpenAiRoutes.Map(app, server);
        TgiRoutes.Map(app, server);
        OpenAiCompletionRoutes.Map(app, server);
        app.MapFallback((HttpContext http) =>
            throw ApiException.NotFound($"no route {http.Request.Method} {http.Request.Path} here"));
        return app;
    }
}
