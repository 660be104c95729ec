using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Vivace.Engine;

namespace Vivace.Server.Tests;

/// <summary>A real Vivace server on a free loopback port, serving the default model, for the whole test class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var embedder = SentenceEmbedder.Load("sentence-transformers/all-MiniLM-L6-v2");
        var options = new ServerOptions { Urls = "http://127.0.0.1:0", MaxInputsPerRequest = 64, MaxRequestBodyBytes = 1 << 20 };
        _app = VivaceServer.Build(new ModelRegistry([ModelSource.Loaded(embedder)], options), options);
        await _app.StartAsync();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app != null) await _app.DisposeAsync();
    }
}
