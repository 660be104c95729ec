using System.Net;

namespace Vivace.Server.Tests;

/// <summary>The result cache: the same request again is answered from it (x-cache: hit, the same bytes, no
/// inference); use_cache false or x-use-cache: false bypass it (x-cache: off); anything different is a miss.</summary>
public class CacheTests
{
    private const string Alias = "org/alias-model";

    private sealed record Answer(HttpStatusCode Status, string Cache, string Body);

    private static async Task<Answer> SendAsync(TestServer server, string path, string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = TestServer.Json(body) };
        foreach (var (name, value) in headers) request.Headers.Add(name, value);
        using HttpResponseMessage response = await server.Client.SendAsync(request);
        string cache = response.Headers.TryGetValues("x-cache", out var values) ? values.Single() : "(none)";
        return new Answer(response.StatusCode, cache, await response.Content.ReadAsStringAsync());
    }

    private static async Task<double> TokensAsync(TestServer server) =>
        TestServer.Sample(await server.MetricsAsync(), "vivace_tokens_total", ("model", TestServer.MiniLmId)) ?? 0;

    [Fact]
    public async Task TheSameRequestTwiceIsAHitWithTheSameBody()
    {
        await using TestServer server = await TestServer.StartAsync();
        string path = $"/models/{TestServer.MiniLmId}", body = """{"inputs": ["cache me", "and me"]}""";

        Answer first = await SendAsync(server, path, body);
        Assert.Equal((HttpStatusCode.OK, "miss"), (first.Status, first.Cache));
        double tokens = await TokensAsync(server);
        Assert.True(tokens > 0);

        Answer second = await SendAsync(server, path, body);
        Assert.Equal((HttpStatusCode.OK, "hit"), (second.Status, second.Cache));
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(tokens, await TokensAsync(server)); // nothing ran

        // TEI's route caches too.
        Answer tei = await SendAsync(server, "/embed", body);
        Assert.Equal("miss", tei.Cache);
        Answer teiAgain = await SendAsync(server, "/embed", body);
        Assert.Equal((HttpStatusCode.OK, "hit"), (teiAgain.Status, teiAgain.Cache));
        Assert.Equal(tei.Body, teiAgain.Body);
    }

    [Fact]
    public async Task UseCacheFalseAndTheHeaderBypassTheCache()
    {
        await using TestServer server = await TestServer.StartAsync();
        string path = $"/models/{TestServer.MiniLmId}", body = """{"inputs": "bypass"}""";
        Answer cached = await SendAsync(server, path, body);
        Assert.Equal("miss", cached.Cache);
        Assert.Equal("hit", (await SendAsync(server, path, body)).Cache);

        // The header: the very body the cache holds is computed again.
        double tokens = await TokensAsync(server);
        Answer byHeader = await SendAsync(server, path, body, ("x-use-cache", "false"));
        Assert.Equal((HttpStatusCode.OK, "off"), (byHeader.Status, byHeader.Cache));
        Assert.True(await TokensAsync(server) > tokens, "x-use-cache: false was answered without inference");
        Assert.Equal(cached.Body, byHeader.Body); // same vectors, computed again

        // The option in the body (twice: it never stores either).
        foreach (int _ in new[] { 1, 2 })
        {
            tokens = await TokensAsync(server);
            Answer byOption = await SendAsync(server, path, """{"inputs": "bypass", "options": {"use_cache": false}}""");
            Assert.Equal((HttpStatusCode.OK, "off"), (byOption.Status, byOption.Cache));
            Assert.True(await TokensAsync(server) > tokens, "use_cache false was answered without inference");
        }

        // The body's switch wins over the header; x-use-cache: true uses the cache.
        Assert.Equal("off", (await SendAsync(server, path, """{"inputs": "bypass", "options": {"use_cache": false}}""", ("x-use-cache", "true"))).Cache);
        Assert.Equal("hit", (await SendAsync(server, path, body, ("x-use-cache", "true"))).Cache);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(server, path, body, ("x-use-cache", "maybe"))).Status);
    }

    [Fact]
    public async Task DifferentParametersInputsRoutesOrModelsAreMisses()
    {
        await using TestServer server = await TestServer.StartAsync(
            [ModelSource.Loaded(TestServer.MiniLm), ModelSource.Loaded(TestServer.MiniLmAs(Alias))]);
        string path = $"/models/{TestServer.MiniLmId}";
        Answer plain = await SendAsync(server, path, """{"inputs": "params"}""");
        Assert.Equal("miss", plain.Cache);
        Assert.Equal("hit", (await SendAsync(server, path, """{"inputs": "params"}""")).Cache);

        Answer unnormalized = await SendAsync(server, path, """{"inputs": "params", "parameters": {"normalize": false}}""");
        Assert.Equal((HttpStatusCode.OK, "miss"), (unnormalized.Status, unnormalized.Cache));
        Assert.NotEqual(plain.Body, unnormalized.Body);
        Assert.Equal("hit", (await SendAsync(server, path, """{"inputs": "params", "parameters": {"normalize": false}}""")).Cache);

        Assert.Equal("miss", (await SendAsync(server, path, """{"inputs": "params", "parameters": {"truncation_direction": "left"}}""")).Cache);
        Assert.Equal("miss", (await SendAsync(server, path, """{"inputs": "other params"}""")).Cache);
        Assert.Equal("miss", (await SendAsync(server, path, """{"inputs": ["params"]}""")).Cache);
        Assert.Equal("miss", (await SendAsync(server, "/embed", """{"inputs": "params"}""")).Cache);

        Answer alias = await SendAsync(server, $"/models/{Alias}", """{"inputs": "params"}""");
        Assert.Equal((HttpStatusCode.OK, "miss"), (alias.Status, alias.Cache)); // another model, same weights
        Assert.Equal(plain.Body, alias.Body);

        // Errors are not cached.
        Answer bad = await SendAsync(server, path, """{"inputs": ""}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await SendAsync(server, path, """{"inputs": ""}""")).Status);
    }

    [Fact]
    public async Task ACacheOfNoEntriesIsOff()
    {
        await using TestServer server = await TestServer.StartAsync(new ServerOptions { CacheEntries = 0 });
        string path = $"/models/{TestServer.MiniLmId}";
        Assert.Equal("off", (await SendAsync(server, path, """{"inputs": "no cache"}""")).Cache);
        Assert.Equal("off", (await SendAsync(server, path, """{"inputs": "no cache"}""")).Cache);
    }
}
