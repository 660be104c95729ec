using System.Buffers.Binary;
using System.Net;
using System.Text.Json;
using Vivace.Engine;
using Vivace.Tokenizers;

namespace Vivace.Server.Tests;

/// <summary>The OpenAI routes (/v1/embeddings, /v1/models) and their OpenAI-shaped errors, over real HTTP.</summary>
public class OpenAiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string ModelId = "sentence-transformers/all-MiniLM-L6-v2";
    private static readonly Tokenizer Tokenizer = Tokenizer.FromDirectory(ModelResolver.Resolve(ModelId));

    private static readonly System.Text.Encoding Utf8 = System.Text.Encoding.UTF8;

    private HttpClient Client => server.Client;

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(string path, string body)
    {
        using var content = new StringContent(body, Utf8, "application/json");
        HttpResponseMessage response = await Client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path)
    {
        using HttpResponseMessage response = await Client.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>OpenAI's error object: {"error": {"message", "type", "param", "code"}}, no stack trace.</summary>
    private static JsonElement AssertOpenAiError(HttpStatusCode status, JsonElement body, HttpStatusCode expected, string? param)
    {
        Assert.Equal(expected, status);
        JsonElement error = body.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.DoesNotContain("   at ", error.GetProperty("message").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.True(error.TryGetProperty("code", out _));
        if (param != null) Assert.Equal(param, error.GetProperty("param").GetString());
        else Assert.True(error.TryGetProperty("param", out _));
        return error;
    }

    private static float[] Floats(JsonElement vector) => vector.EnumerateArray().Select(x => x.GetSingle()).ToArray();

    private static double Norm(float[] v) => Math.Sqrt(v.Sum(x => (double)x * x));

    [Fact]
    public async Task EmbeddingsEqualTeiEmbedWithOpenAiShapeAndUsage()
    {
        var (status, body, _) = await PostAsync("/v1/embeddings", """{"input": "hello world", "model": "sentence-transformers/all-MiniLM-L6-v2", "user": "u1"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("list", body.GetProperty("object").GetString());
        Assert.Equal(ModelId, body.GetProperty("model").GetString());
        JsonElement item = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal("embedding", item.GetProperty("object").GetString());
        Assert.Equal(0, item.GetProperty("index").GetInt32());
        int tokens = Tokenizer.Encode("hello world").Length;
        Assert.Equal(tokens, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(tokens, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());

        var (_, tei, _) = await PostAsync("/embed", """{"inputs": "hello world"}""");
        float[] openAi = Floats(item.GetProperty("embedding")), expected = Floats(tei[0]);
        Assert.Equal(384, openAi.Length);
        for (int i = 0; i < 384; i++) Assert.Equal(expected[i], openAi[i], 1e-6);
        Assert.Equal(1.0, Norm(openAi), 5);
    }

    [Fact]
    public async Task ListsAndTokenIdsKeepTheirOrderAndCountEveryToken()
    {
        string[] texts = ["hello world", "Paris is the capital of France", "東京"];
        var (status, body, _) = await PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = texts }));
        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement[] data = body.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(3, data.Length);
        for (int i = 0; i < 3; i++) Assert.Equal(i, data[i].GetProperty("index").GetInt32());
        Assert.Equal(texts.Sum(t => Tokenizer.Encode(t).Length), body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        int[] ids = Tokenizer.Encode("hello world").Ids;
        var (flatStatus, flat, _) = await PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = ids }));
        var (nestedStatus, nested, _) = await PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = new[] { ids, Tokenizer.Encode("東京").Ids } }));
        Assert.Equal(HttpStatusCode.OK, flatStatus);
        Assert.Equal(HttpStatusCode.OK, nestedStatus);
        Assert.Equal(2, nested.GetProperty("data").GetArrayLength());
        float[] byText = Floats(data[0].GetProperty("embedding"));
        float[] byIds = Floats(flat.GetProperty("data")[0].GetProperty("embedding"));
        float[] byNestedIds = Floats(nested.GetProperty("data")[1].GetProperty("embedding"));
        float[] tokyo = Floats(data[2].GetProperty("embedding"));
        for (int i = 0; i < 384; i++)
        {
            Assert.Equal(byText[i], byIds[i], 1e-6);
            Assert.Equal(tokyo[i], byNestedIds[i], 1e-6);
        }
        Assert.Equal(ids.Length, flat.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Base64IsLittleEndianFloat32OfTheSameVector()
    {
        var (_, floats, _) = await PostAsync("/v1/embeddings", """{"input": ["base64 check", "second"], "encoding_format": "float"}""");
        var (status, encoded, _) = await PostAsync("/v1/embeddings", """{"input": ["base64 check", "second"], "encoding_format": "base64"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        for (int k = 0; k < 2; k++)
        {
            byte[] bytes = Convert.FromBase64String(encoded.GetProperty("data")[k].GetProperty("embedding").GetString()!);
            Assert.Equal(384 * 4, bytes.Length);
            float[] expected = Floats(floats.GetProperty("data")[k].GetProperty("embedding"));
            for (int i = 0; i < 384; i++) Assert.Equal(expected[i], BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4)));
        }
        Assert.Equal(floats.GetProperty("usage").GetRawText(), encoded.GetProperty("usage").GetRawText());
    }

    [Fact]
    public async Task DimensionsCutsAndRenormalizes()
    {
        var (_, full, _) = await PostAsync("/v1/embeddings", """{"input": "matryoshka"}""");
        var (status, cut, _) = await PostAsync("/v1/embeddings", """{"input": "matryoshka", "dimensions": 128}""");
        Assert.Equal(HttpStatusCode.OK, status);
        float[] whole = Floats(full.GetProperty("data")[0].GetProperty("embedding"));
        float[] part = Floats(cut.GetProperty("data")[0].GetProperty("embedding"));
        Assert.Equal(128, part.Length);
        Assert.Equal(1.0, Norm(part), 5);
        double scale = Norm(whole[..128]);
        for (int i = 0; i < 128; i++) Assert.Equal(whole[i] / scale, part[i], 1e-6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("all-MiniLM-L6-v2")]
    [InlineData("SENTENCE-TRANSFORMERS/ALL-MINILM-L6-V2")]
    public async Task ModelMayBeOmittedOrNamedByItsShortName(string model)
    {
        var (status, body, _) = await PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = "x", model }));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(ModelId, body.GetProperty("model").GetString());
    }

    [Fact]
    public async Task RepeatedRequestsComeFromTheCache()
    {
        string request = """{"input": "cached in the openai dialect"}""";
        var (_, first, firstResponse) = await PostAsync("/v1/embeddings", request);
        var (_, second, secondResponse) = await PostAsync("/v1/embeddings", request);
        Assert.Equal("miss", firstResponse.Headers.GetValues("x-cache").Single());
        Assert.Equal("hit", secondResponse.Headers.GetValues("x-cache").Single());
        Assert.Equal(first.GetRawText(), second.GetRawText());
    }

    [Fact]
    public async Task ModelsListsTheServedModelsAndFindsEachOne()
    {
        var (status, list) = await GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("list", list.GetProperty("object").GetString());
        JsonElement model = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal(ModelId, model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal("vivace", model.GetProperty("owned_by").GetString());
        long created = model.GetProperty("created").GetInt64();
        Assert.InRange(created, DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        var (oneStatus, one) = await GetAsync("/v1/models/" + ModelId);
        Assert.Equal(HttpStatusCode.OK, oneStatus);
        Assert.Equal(model.GetRawText(), one.GetRawText());

        var (missing, error) = await GetAsync("/v1/models/org/no-such-model");
        JsonElement e = AssertOpenAiError(missing, error, HttpStatusCode.NotFound, "model");
        Assert.Equal("model_not_found", e.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("""{"input": "x", "model": "org/unknown-model"}""", HttpStatusCode.NotFound, "model")]
    [InlineData("""{"input": ""}""", HttpStatusCode.UnprocessableEntity, "input")]
    [InlineData("""{"input": []}""", HttpStatusCode.UnprocessableEntity, "input")]
    [InlineData("""{"input": ["a", ""]}""", HttpStatusCode.UnprocessableEntity, "input[1]")]
    [InlineData("""{"model": "all-MiniLM-L6-v2"}""", HttpStatusCode.UnprocessableEntity, "input")]
    [InlineData("""{"input": 42}""", HttpStatusCode.UnprocessableEntity, "input")]
    [InlineData("""{"input": {"text": "x"}}""", HttpStatusCode.UnprocessableEntity, "input")]
    [InlineData("""{"input": [1, "two"]}""", HttpStatusCode.UnprocessableEntity, "input")]
    [InlineData("""{"input": [[101, 102], "x"]}""", HttpStatusCode.UnprocessableEntity, "input")]
    [InlineData("""{"input": [101, 999999999, 102]}""", HttpStatusCode.UnprocessableEntity, "input")]
    [InlineData("""{"input": [101, 1.5, 102]}""", HttpStatusCode.UnprocessableEntity, "input")]
    [InlineData("""{"input": "x", "encoding_format": "int8"}""", HttpStatusCode.UnprocessableEntity, "encoding_format")]
    [InlineData("""{"input": "x", "dimensions": 0}""", HttpStatusCode.UnprocessableEntity, "dimensions")]
    [InlineData("""{"input": "x", "dimensions": 385}""", HttpStatusCode.UnprocessableEntity, "dimensions")]
    [InlineData("""{"input": "x", "dimensions": "ten"}""", HttpStatusCode.UnprocessableEntity, "dimensions")]
    [InlineData("""{"input": "x", "model": 5}""", HttpStatusCode.UnprocessableEntity, null)]
    [InlineData("""{"input": "x", "encoding_format": ["float"]}""", HttpStatusCode.UnprocessableEntity, null)]
    [InlineData("{not json", HttpStatusCode.UnprocessableEntity, null)]
    [InlineData("null", HttpStatusCode.UnprocessableEntity, null)]
    [InlineData("[\"x\"]", HttpStatusCode.UnprocessableEntity, null)]
    public async Task BadRequestsGetOpenAiErrors(string body, HttpStatusCode expected, string? param)
    {
        var (status, error, _) = await PostAsync("/v1/embeddings", body);
        AssertOpenAiError(status, error, expected, param);
    }

    [Fact]
    public async Task TooManyInputsAre413AndTooLongInputs422()
    {
        var (status, error, _) = await PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = Enumerable.Repeat("a", 65).ToArray() }));
        AssertOpenAiError(status, error, HttpStatusCode.RequestEntityTooLarge, "input");

        string longText = string.Join(' ', Enumerable.Repeat("token", 600));
        (status, error, _) = await PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = longText }));
        AssertOpenAiError(status, error, HttpStatusCode.UnprocessableEntity, "input");

        (status, error, _) = await PostAsync("/v1/embeddings", JsonSerializer.Serialize(new { input = new[] { "short", longText } }));
        AssertOpenAiError(status, error, HttpStatusCode.UnprocessableEntity, "input");
    }

    [Fact]
    public async Task UnknownRoutesUnderV1AnswerInOpenAiShape()
    {
        var (status, error) = await GetAsync("/v1/no-such-route");
        AssertOpenAiError(status, error, HttpStatusCode.NotFound, null);
    }
}
