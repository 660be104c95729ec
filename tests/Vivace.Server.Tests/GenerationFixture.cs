using System.Net;
using System.Text.Json;
using Vivace.Cpu;
using Vivace.Engine.Generation;
using Vivace.Tests;

namespace Vivace.Server.Tests;

/// <summary>
/// A real server whose first (default) model is a tiny GPT-2 made at test time from shared files (a temp folder of
/// symbolic links: the gpt2-small golden checkpoint with tiny-random-gpt2's tokenizer, same 1000-token vocabulary),
/// loaded by <see cref="ModelSource.FromId"/> as <c>vivace serve --model DIR</c> does; the packaged embedding model
/// is served beside it. <see cref="Local"/> is the same model loaded in-process, the oracle for what HTTP returns.
/// </summary>
public sealed class GenerationFixture : IAsyncLifetime
{
    public const string Embedder = TestServer.MiniLmId;

    private TestServer? _server;

    /// <summary>Whether the shared files are here; each test skips without them.</summary>
    public bool Available { get; private set; }
    public string Directory { get; private set; } = "";
    public string ModelId => Path.GetFileName(Directory);
    internal TestServer Server => _server!;
    public TextGenerator Local { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory = MakeModelDirectory() ?? "";
        Available = Directory.Length > 0;
        if (!Available) return;
        Local = TextGenerator.Load(Directory, CpuOps.Default, ModelId);
        _server = await TestServer.StartAsync([ModelSource.FromId(Directory), ModelSource.Loaded(TestServer.MiniLm)]);
        await _server.Registry.GetAsync(null, wait: true, CancellationToken.None);
    }

    /// <summary>The model directory (<see cref="TestModels.TryGpt2WithTokenizer"/>); null when the shared files are absent.</summary>
    public static string? MakeModelDirectory() => TestModels.TryGpt2WithTokenizer();

    public async Task DisposeAsync()
    {
        if (_server != null) await _server.DisposeAsync();
    }

    /// <summary>POSTs and expects 200, failing with the body otherwise.</summary>
    internal async Task<(JsonElement Body, HttpResponseMessage Response)> OkAsync(string path, object body)
    {
        var (status, json, response) = await Server.PostAsync(path, body);
        Assert.True(status == HttpStatusCode.OK, $"POST {path}: {(int)status} {json}");
        return (json, response);
    }

    /// <summary>POSTs and reads a server-sent event stream to its end: the payload of each <c>data:</c> line.</summary>
    internal async Task<List<string>> EventsAsync(string path, object body)
    {
        using HttpResponseMessage response = await Server.Client.PostAsync(path, TestServer.Json(body));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {(int)response.StatusCode} {text}");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return ParseEvents(text);
    }

    internal static List<string> ParseEvents(string text)
    {
        var events = new List<string>();
        foreach (string block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data:", block);
            events.Add(block["data:".Length..].TrimStart(' '));
        }
        return events;
    }

    /// <summary>The in-process result of the same greedy request.</summary>
    public GenerationResult Greedy(string prompt, int maxNewTokens, params string[] stop) =>
        Local.Generate(new GenerationRequest { Prompt = prompt, MaxNewTokens = maxNewTokens, Stop = stop });
}
