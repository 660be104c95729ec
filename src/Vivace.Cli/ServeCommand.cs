using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Vivace.Engine.Batching;
using Vivace.Engine.Generation;
using Vivace.Server;

namespace Vivace.Cli;

/// <summary><c>vivace serve</c>: load the first model, then answer HTTP until stopped (SIGTERM drains in-flight
/// requests and exits 0). Further models load on first use.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model") { Description = "model directory or id: an embedding model, or a decoder checkpoint directory for text generation (repeatable; the first is the default and loads at start, the others on first use); default: " + CliApp.DefaultModel };
        var urls = new Option<string>("--urls") { Description = "where to listen", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var device = new Option<string>("--device") { Description = "cpu (cuda comes later)", DefaultValueFactory = _ => "cpu" };
        var apiKeys = new Option<string[]>("--api-key") { Description = "require 'Authorization: Bearer KEY' on inference routes (repeatable; also VIVACE_API_KEYS, comma-separated)" };
        var maxConcurrent = new Option<int>("--max-concurrent-requests") { Description = "inference requests admitted at once; beyond it 429", DefaultValueFactory = _ => 512 };
        var maxInputs = new Option<int>("--max-client-batch-size") { Description = "inputs per request at most", DefaultValueFactory = _ => 1024 };
        var maxBatchTokens = new Option<int>("--max-batch-tokens") { Description = "tokens per batch the batching queue forms at most", DefaultValueFactory = _ => 16384 };
        var maxBatchRequests = new Option<int>("--max-batch-requests") { Description = "requests per batch at most", DefaultValueFactory = _ => 128 };
        var maxSequences = new Option<int>("--max-batch-sequences") { Description = "generation: sequences decoded together at most (continuous batching)", DefaultValueFactory = _ => 16 };
        var maxPassTokens = new Option<int>("--max-pass-tokens") { Description = "generation: tokens per forward pass at most (decode steps + prompts joining)", DefaultValueFactory = _ => 2048 };
        var memoryBudget = new Option<long?>("--memory-budget-mb") { Description = "weight megabytes of loaded models at most; least recently used idle models are unloaded beyond it" };
        var cacheEntries = new Option<int>("--cache-entries") { Description = "results kept for use_cache (0: off)", DefaultValueFactory = _ => 4096 };
        var jsonLogs = new Option<bool>("--json-logs") { Description = "log one JSON object per line" };
        var quantize = PrecisionOption.CreateQuantize();
        var dtype = PrecisionOption.CreateDtype();
        var command = new Command("serve", "serve models over HTTP (Hugging Face Inference API, TEI, TGI and OpenAI dialects)")
        {
            models, urls, device, apiKeys, maxConcurrent, maxInputs, maxBatchTokens, maxBatchRequests, maxSequences, maxPassTokens, memoryBudget, cacheEntries, jsonLogs,
            quantize, dtype,
        };
        command.SetAction(result => CliApp.Guard(() =>
        {
            string dev = result.GetValue(device)!;
            if (dev != "cpu") throw new ArgumentException($"--device {dev} is not supported yet; use cpu");
            string[] ids = result.GetValue(models) is { Length: > 0 } given ? given : [CliApp.DefaultModel];
            var keys = (result.GetValue(apiKeys) ?? []).Concat(
                (Environment.GetEnvironmentVariable("VIVACE_API_KEYS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
            var options = new ServerOptions
            {
                Urls = result.GetValue(urls)!,
                ApiKeys = keys,
                MaxConcurrentRequests = Positive(result.GetValue(maxConcurrent), "--max-concurrent-requests"),
                MaxInputsPerRequest = Positive(result.GetValue(maxInputs), "--max-client-batch-size"),
                Batching = new BatchingOptions
                {
                    MaxBatchTokens = Positive(result.GetValue(maxBatchTokens), "--max-batch-tokens"),
                    MaxBatchRequests = Positive(result.GetValue(maxBatchRequests), "--max-batch-requests"),
                },
                Generation = new SchedulerOptions(
                    Positive(result.GetValue(maxSequences), "--max-batch-sequences"),
                    Positive(result.GetValue(maxPassTokens), "--max-pass-tokens")),
                MemoryBudgetBytes = result.GetValue(memoryBudget) is long mb ? Positive(mb, "--memory-budget-mb") * 1024 * 1024 : null,
                CacheEntries = Math.Max(0, result.GetValue(cacheEntries)),
                JsonLogs = result.GetValue(jsonLogs),
            };
            var ops = PrecisionOption.Ops(result.GetValue(quantize), result.GetValue(dtype));
            using var registry = new ModelRegistry(ids.Select(id => ModelSource.FromId(id, ops)), options);
            WebApplication app = VivaceServer.Build(registry, options);
            // Loaded through the registry once the server's metrics follow it, so vivace_model_load_seconds has it.
            Console.Error.WriteLine($"loading {registry.DefaultId} ...");
            registry.GetAsync(null, wait: true, CancellationToken.None).GetAwaiter().GetResult();
            Console.Error.WriteLine($"serving {string.Join(", ", registry.Ids)} on {options.Urls}{(keys.Length > 0 ? $" ({keys.Length} API key(s) required)" : "")}");
            app.Run();
            return 0;
        }));
        return command;
    }

    private static T Positive<T>(T value, string name) where T : System.Numerics.INumber<T> =>
        value > T.Zero ? value : throw new ArgumentException($"{name} must be positive, not {value}");
}
