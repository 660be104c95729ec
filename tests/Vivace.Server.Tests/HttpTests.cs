using System.Net;
using System.Text;
using System.Text.Json;

namespace Vivace.Server.Tests;

/// <summary>The first server's routes and error paths, over real HTTP on loopback.</summary>
public class HttpTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private HttpClient Client => server.Client;

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string body, string contentType = "application/json")
    {
        using var content = new StringContent(body, Encoding.UTF8, contentType);
        using HttpResponseMessage response = await Client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static void AssertClientError(HttpStatusCode status, JsonElement body, params HttpStatusCode[] expected)
    {
        Assert.Contains(status, expected);
        Assert.Equal(JsonValueKind.String, body.GetProperty("error").ValueKind);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error_type").GetString()));
        Assert.DoesNotContain("   at ", body.GetProperty("error").GetString()); // no stack trace
    }

    private static double Norm(JsonElement vector) => Math.Sqrt(vector.EnumerateArray().Sum(x => x.GetDouble() * x.GetDouble()));

    [Fact]
    public async Task HealthAnswers()
    {
        using HttpResponseMessage response = await Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TeiEmbedTakesAStringOrAList()
    {
        var (status, body) = await PostAsync("/embed", """{"inputs": "What is Deep Learning?"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetArrayLength());
        Assert.Equal(384, body[0].GetArrayLength());
        Assert.Equal(1.0, Norm(body[0]), 4);

        (status, body) = await PostAsync("/embed", """{"inputs": ["What is Deep Learning?", "Paris"], "normalize": false}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetArrayLength());
        Assert.NotEqual(1.0, Math.Round(Norm(body[1]), 3));
    }

    [Fact]
    public async Task HfFeatureExtractionGivesOneVectorForAStringAndAListForAList()
    {
        var (status, body) = await PostAsync("/models/sentence-transformers/all-MiniLM-L6-v2", """{"inputs": "Hello"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(384, body.GetArrayLength());
        Assert.Equal(JsonValueKind.Number, body[0].ValueKind);

        (status, body) = await PostAsync("/models/sentence-transformers/all-MiniLM-L6-v2",
            """{"inputs": ["Hello", "World"], "options": {"wait_for_model": true}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetArrayLength());
        Assert.Equal(384, body[1].GetArrayLength());
    }

    [Fact]
    public async Task SameTextGivesTheSameVectorOnBothRoutes()
    {
        var (_, tei) = await PostAsync("/embed", """{"inputs": "consistency"}""");
        var (_, hf) = await PostAsync("/models/all-MiniLM-L6-v2", """{"inputs": "consistency"}""");
        for (int i = 0; i < 384; i++) Assert.Equal(tei[0][i].GetSingle(), hf[i].GetSingle());
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1, 2, 3]")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("""{"inputs": 42}""")]
    [InlineData("""{"inputs": [1, "two"]}""")]
    [InlineData("""{"inputs": [[1, 2], "x"]}""")]
    [InlineData("""{"inputs": [-1]}""")]
    [InlineData("""{"inputs": [101, 999999999, 102]}""")]
    [InlineData("""{"inputs": []}""")]
    [InlineData("""{"inputs": [""]}""")]
    [InlineData("""{"inputs": "x", "normalize": "yes"}""")]
    [InlineData("""{"inputs": "x", "truncation_direction": "Up"}""")]
    public async Task MalformedRequestsAreClientErrors(string body)
    {
        var (status, error) = await PostAsync("/embed", body);
        AssertClientError(status, error, HttpStatusCode.BadRequest, HttpStatusCode.UnprocessableEntity);
        using HttpResponseMessage health = await Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task InvalidUtf8IsAClientError()
    {
        byte[] bytes = [.. System.Text.Encoding.ASCII.GetBytes("{\"inputs\": \"a"), 0xC3, 0x28, .. System.Text.Encoding.ASCII.GetBytes("b\"}")];
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        using HttpResponseMessage response = await Client.PostAsync("/embed", content);
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"status {response.StatusCode}");
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.TryGetProperty("error", out _));
    }

    [Fact]
    public async Task TooLongInputIs422UnlessTruncated()
    {
        string text = string.Join(' ', Enumerable.Repeat("token", 600));
        var (status, error) = await PostAsync("/embed", JsonSerializer.Serialize(new { inputs = text }));
        AssertClientError(status, error, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("256", error.GetProperty("error").GetString());
        var (tokens, tokenError) = await PostAsync("/embed", JsonSerializer.Serialize(new { inputs = Enumerable.Repeat(1000, 300).ToArray() }));
        AssertClientError(tokens, tokenError, HttpStatusCode.UnprocessableEntity);

        var (ok, body) = await PostAsync("/embed", JsonSerializer.Serialize(new { inputs = text, truncate = true }));
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(384, body[0].GetArrayLength());
    }

    [Fact]
    public async Task TooManyInputsAndTooLargeBodiesAre413()
    {
        var (status, error) = await PostAsync("/embed", JsonSerializer.Serialize(new { inputs = Enumerable.Repeat("a", 65).ToArray() }));
        AssertClientError(status, error, HttpStatusCode.RequestEntityTooLarge);

        // A body over the limit is refused from its Content-Length, before it is read, and the connection closes: a
        // client still writing it would see a broken pipe instead of the answer. So this one asks first
        // (Expect: 100-continue) and waits for the answer however long the machine takes, as large uploads should.
        using var client = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = Client.BaseAddress,
            Timeout = TimeSpan.FromMinutes(2),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/embed")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { inputs = new string('a', 2 << 20) }), Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = true;
        using HttpResponseMessage response = await client.SendAsync(request);
        AssertClientError(response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task DeepNestingIsAClientError()
    {
        string deep = "{\"inputs\": " + new string('[', 10000) + new string(']', 10000) + "}";
        var (status, error) = await PostAsync("/embed", deep);
        AssertClientError(status, error, HttpStatusCode.BadRequest, HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task UnknownModelIs404()
    {
        var (status, error) = await PostAsync("/models/org/unknown-model", """{"inputs": "x"}""");
        AssertClientError(status, error, HttpStatusCode.NotFound);
        Assert.Contains("org/unknown-model", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task EmptyStringIsRejectedAsTeiDoes()
    {
        var (status, body) = await PostAsync("/embed", """{"inputs": ""}""");
        AssertClientError(status, body, HttpStatusCode.UnprocessableEntity);
        Assert.Contains("empty", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task TeiEmbedTakesTokenIds()
    {
        var (_, byText) = await PostAsync("/embed", """{"inputs": "hello world"}""");
        var (status, byIds) = await PostAsync("/embed", """{"inputs": [101, 7592, 2088, 102]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var (status2, nested) = await PostAsync("/embed", """{"inputs": [[101, 7592, 2088, 102], [101, 102]]}""");
        Assert.Equal(HttpStatusCode.OK, status2);
        Assert.Equal(2, nested.GetArrayLength());
        for (int j = 0; j < 384; j++)
        {
            Assert.Equal(byText[0][j].GetDouble(), byIds[0][j].GetDouble(), 1e-6);
            Assert.Equal(byText[0][j].GetDouble(), nested[0][j].GetDouble(), 1e-6);
        }
    }
}
