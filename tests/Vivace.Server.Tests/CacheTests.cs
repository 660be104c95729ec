using System.Net;

namespace Vivace.Server.Tests;

/// <summary>The result cache: the same request again is answered from it (x-cache: hit, the same bytes, no
/// inference); use_cache false or x-use-cache: false bypass it (x-cache: off); anything different is a miss.</summary>
public class CacheTests
{
    private const string Alias = "org/alias-model";

    /// <summary>Computed: the response carries the inference headers (a cached answer runs nothing and has none).</summary>
    private sealed record Answer(HttpStatusCode Status, string Cache, string Body, bool Computed);

    private static async Task<Answer> SendAsync(TestServer server, string path, string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = TestServer.Json(body) };
        foreach (var (name, value) in headers) request.Headers.Add(name, value);
        using HttpResponseMessage response = await server.Client.SendAsync(request);
        string cache = response.Headers.TryGetValues("x-cache", out var values) ? values.Single() : "(none)";
        return new Answer(response.StatusCode, cache, await response.Content.ReadAsStringAsync(), response.Headers.Contains("x-compute-tokens"));
    }

    [Fact]
    public async Task TheSameRequestTwiceIsAHitWithTheSameBody()
    {
        await using TestServer server = await TestServer.StartAsync();
        string path = $"/models/{TestServer.MiniLmId}", body = """{"inputs": ["cache me", "and me"]}""";

        Answer first = await SendAsync(server, path, body);
        Assert.Equal((HttpStatusCode.OK, "miss", true), (first.Status, first.Cache, first.Computed));

        Answer second = await SendAsync(server, path, body);
        Assert.Equal((HttpStatusCode.OK, "hit", false), (second.Status, second.Cache, second.Computed)); // nothing ran
        Assert.Equal(first.Body, second.Body);
        await server.ExpectSampleAsync("vivace_cache_lookups_total", 1, ("result", "hit"));
        await server.ExpectSampleAsync("vivace_batch_requests_sum", 1, ("model", TestServer.MiniLmId)); // one batch, one request

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
        Answer byHeader = await SendAsync(server, path, body, ("x-use-cache", "false"));
        Assert.Equal((HttpStatusCode.OK, "off", true), (byHeader.Status, byHeader.Cache, byHeader.Computed));
        Assert.Equal(cached.Body, byHeader.Body); // same vectors, computed again

        // The option in the body (twice: it never stores either).
        foreach (int _ in new[] { 1, 2 })
        {
            Answer byOption = await SendAsync(server, path, """{"inputs": "bypass", "options": {"use_cache": false}}""");
            Assert.Equal((HttpStatusCode.OK, "off", true), (byOption.Status, byOption.Cache, byOption.Computed));
        }
        await server.ExpectSampleAsync("vivace_batch_requests_sum", 4, ("model", TestServer.MiniLmId)); // the first and the three bypasses

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
