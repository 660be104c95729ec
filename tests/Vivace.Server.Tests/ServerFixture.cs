namespace Vivace.Server.Tests;

/// <summary>A real Vivace server on a free loopback port, serving the default model, for the whole test class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private TestServer? _server;

    public HttpClient Client => _server!.Client;

    public async Task InitializeAsync() =>
        _server = await TestServer.StartAsync(new ServerOptions { MaxInputsPerRequest = 64, MaxRequestBodyBytes = 1 << 20 });

    public async Task DisposeAsync()
    {
        if (_server != null) await _server.DisposeAsync();
    }
}
