using System.Net;
using System.Text.Json;

namespace Vivace.Server.Tests;

/// <summary>A server that requires one of several API keys: every inference route checks the bearer token;
/// /health and /metrics stay open.</summary>
public sealed class AuthServerFixture : IAsyncLifetime
{
    public static readonly string[] Keys = ["key-one", "second-key-with-more-characters"];

    internal TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(new ServerOptions { ApiKeys = Keys });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public class AuthTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private TestServer Server => fixture.Server;

    private static readonly string[] InferenceRoutes = ["/embed", $"/models/{TestServer.MiniLmId}", $"/pipeline/feature-extraction/{TestServer.MiniLmId}"];

    private async Task<HttpResponseMessage> PostAsync(string path, string? authorization, string requestId = "auth-test")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = TestServer.Json("""{"inputs": "who goes there"}""") };
        if (authorization != null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        request.Headers.Add("x-request-id", requestId);
        return await Server.Client.SendAsync(request);
    }

    [Theory]
    [InlineData(null)]                                         // no key
    [InlineData("Bearer wrong-key")]                           // wrong key
    [InlineData("Bearer key-on")]                              // a prefix of a key
    [InlineData("Bearer key-one2")]                            // a key plus more
    [InlineData("Bearer ")]                                    // empty token
    [InlineData("Bearer")]
    [InlineData("Basic key-one")]                              // wrong scheme, right secret
    [InlineData("Token key-one")]
    [InlineData("key-one")]                                    // no scheme
    [InlineData("Bearer key-one second-key-with-more-characters")]
    public async Task MissingOrWrongKeysAre401WithAJsonError(string? authorization)
    {
        foreach (string route in InferenceRoutes)
        {
            using HttpResponseMessage response = await PostAsync(route, authorization, requestId: "denied-1");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Unauthorized", body.GetProperty("error_type").GetString());
            Assert.Contains("API key", body.GetProperty("error").GetString());
            Assert.DoesNotContain("key-one", body.GetProperty("error").GetString()); // never echoes a key
            Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
            Assert.Equal("denied-1", Assert.Single(response.Headers.GetValues("x-request-id")));
        }
    }

    [Fact]
    public async Task EveryConfiguredKeyIsAccepted()
    {
        foreach (string key in AuthServerFixture.Keys)
            foreach (string route in InferenceRoutes)
            {
                using HttpResponseMessage response = await PostAsync(route, $"Bearer {key}");
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route} with {key}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        // The scheme is case-insensitive (RFC 9110), the token is not.
        using (HttpResponseMessage lower = await PostAsync("/embed", "bearer key-one")) Assert.Equal(HttpStatusCode.OK, lower.StatusCode);
        using (HttpResponseMessage upper = await PostAsync("/embed", "Bearer KEY-ONE")) Assert.Equal(HttpStatusCode.Unauthorized, upper.StatusCode);
    }

    [Fact]
    public async Task HealthAndMetricsNeedNoKey()
    {
        using HttpResponseMessage health = await Server.Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using HttpResponseMessage metrics = await Server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("vivace_requests_total", await metrics.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UnknownRoutesDoNotTellAnythingWithoutAKey()
    {
        using HttpResponseMessage response = await PostAsync("/no/such/route", null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using HttpResponseMessage withKey = await PostAsync("/no/such/route", "Bearer key-one");
        Assert.Equal(HttpStatusCode.NotFound, withKey.StatusCode);
    }

    [Fact]
    public async Task UnderV1TheErrorHasOpenAisShape()
    {
        using HttpResponseMessage response = await PostAsync("/v1/embeddings", "Bearer nope");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        JsonElement error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("authentication_error", error.GetProperty("type").GetString());
        Assert.Contains("API key", error.GetProperty("message").GetString());
    }
}
