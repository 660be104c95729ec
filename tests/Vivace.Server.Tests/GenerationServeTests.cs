using System.Net;
using System.Text.Json;
using Vivace.Tests;

namespace Vivace.Server.Tests;

/// <summary><c>vivace serve --model DIR</c> with a decoder checkpoint: it serves text generation, streams, and a
/// SIGTERM while a stream is open lets it finish, then exits 0.</summary>
public class GenerationServeTests
{
    [SkippableFact]
    public async Task ServeADecoderDirectory()
    {
        string? dir = GenerationFixture.MakeModelDirectory();
        Skip.If(dir is null, "shared test data (goldens/gpt2-small, data/ort-genai/tiny-random-gpt2) not found");
        using ServeProcess serve = await ServeProcess.StartAsync(["--model", dir!]);
        using HttpClient client = serve.NewClient();
        using HttpResponseMessage response = await client.PostAsync("/generate",
            TestServer.Json(new { inputs = "Hello", parameters = new { max_new_tokens = 5, details = true } }));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal(5, JsonDocument.Parse(text).RootElement.GetProperty("details").GetProperty("generated_tokens").GetInt32());
        JsonElement info = JsonDocument.Parse(await client.GetStringAsync("/info")).RootElement;
        Assert.Equal(Path.GetFileName(dir), info.GetProperty("model_id").GetString());

        // A stream open when SIGTERM arrives still ends with its last event (the host drains in-flight requests).
        using var request = new HttpRequestMessage(HttpMethod.Post, "/generate_stream")
        {
            Content = TestServer.Json(new { inputs = "Hello", parameters = new { max_new_tokens = 100 } }),
        };
        using HttpResponseMessage stream = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        serve.Terminate();
        List<string> events = GenerationFixture.ParseEvents(await stream.Content.ReadAsStringAsync());
        Assert.Equal(100, events.Count);
        Assert.Equal(100, JsonDocument.Parse(events[^1]).RootElement.GetProperty("details").GetProperty("generated_tokens").GetInt32());
        Assert.Equal(0, await serve.WaitForExitAsync());
    }

    /// <summary>The memory budget counts a generator's weights (through the directory's symbolic links) like an
    /// embedder's: loading one unloads the other when both do not fit.</summary>
    [SkippableFact]
    public async Task TheMemoryBudgetCountsGenerators()
    {
        string? dir = GenerationFixture.MakeModelDirectory();
        Skip.If(dir is null, "shared test data (goldens/gpt2-small, data/ort-genai/tiny-random-gpt2) not found");
        const string embedder = "budget/embedder";
        var unloaded = new List<string>();
        using var registry = new ModelRegistry([ModelSource.FromId(dir!), new ModelSource(embedder, () => TestServer.MiniLmAs(embedder))],
            new ServerOptions { MemoryBudgetBytes = 1 });
        registry.ModelEvent += (id, load) => { if (load is null) lock (unloaded) unloaded.Add(id); };
        string generatorId = Path.GetFileName(dir)!;
        Assert.Equal(ModelKind.Generation, registry.KindOf(generatorId));
        Assert.Equal(ModelKind.Embedding, registry.KindOf(embedder));

        LoadedModel generator = await registry.GetAsync(generatorId, wait: true, CancellationToken.None);
        Assert.NotNull(generator.Generator);
        Assert.Null(generator.Embedder);
        Assert.Equal(new FileInfo(Path.Combine(SharedData.Path!, "goldens", "gpt2-small", "model.safetensors")).Length, generator.WeightBytes);

        LoadedModel embedding = await registry.GetAsync(embedder, wait: true, CancellationToken.None);
        Assert.NotNull(embedding.Embedder);
        Assert.Null(embedding.Generator);
        Assert.Equal([embedder], registry.Loaded.Select(m => m.Id));
        lock (unloaded) Assert.Equal([generatorId], unloaded);

        await registry.GetAsync(generatorId, wait: true, CancellationToken.None);
        Assert.Equal([generatorId], registry.Loaded.Select(m => m.Id));
    }

    /// <summary>A generation holds its admission slot while it streams: beyond the limit the next request is a 429,
    /// and once the stream ends the server admits again.</summary>
    [SkippableFact]
    public async Task AStreamingGenerationCountsAgainstAdmission()
    {
        string? dir = GenerationFixture.MakeModelDirectory();
        Skip.If(dir is null, "shared test data (goldens/gpt2-small, data/ort-genai/tiny-random-gpt2) not found");
        await using TestServer server = await TestServer.StartAsync([ModelSource.FromId(dir!)], new ServerOptions { MaxConcurrentRequests = 1 });
        await server.Registry.GetAsync(null, wait: true, CancellationToken.None);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/generate_stream")
        {
            Content = TestServer.Json(new { inputs = "Hello", parameters = new { max_new_tokens = 250 } }),
        };
        using HttpResponseMessage stream = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        var (status, error, _) = await server.PostAsync("/generate", new { inputs = "Hello", parameters = new { max_new_tokens = 2 } });
        Assert.True(status == HttpStatusCode.TooManyRequests, $"{(int)status} {error}");
        Assert.Equal("overloaded", error.GetProperty("error_type").GetString()); // TGI's name

        Assert.Equal(250, GenerationFixture.ParseEvents(await stream.Content.ReadAsStringAsync()).Count);
        await TestServer.WaitUntilAsync(async () =>
            (await server.PostAsync("/generate", new { inputs = "Hello", parameters = new { max_new_tokens = 2 } })).Status == HttpStatusCode.OK,
            "the server admits again");
    }
}
