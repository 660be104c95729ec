using System.Net;
using System.Text.Json;
using Vivace.Engine;
using Vivace.Tokenizers;
using TokenEncoding = Vivace.Tokenizers.Encoding;

namespace Vivace.Server.Tests;

/// <summary>TEI's /similarity, /tokenize, /decode and /info, and their error paths, over real HTTP.</summary>
public class TeiToolTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string ModelId = "sentence-transformers/all-MiniLM-L6-v2";
    private static readonly Tokenizer Tokenizer = Tokenizer.FromDirectory(ModelResolver.Resolve(ModelId));

    private static readonly System.Text.Encoding Utf8 = System.Text.Encoding.UTF8;

    private HttpClient Client => server.Client;

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string body)
    {
        using var content = new StringContent(body, Utf8, "application/json");
        using HttpResponseMessage response = await Client.PostAsync(path, content);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static void AssertTeiError(HttpStatusCode status, JsonElement body, HttpStatusCode expected)
    {
        Assert.Equal(expected, status);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
        Assert.DoesNotContain("   at ", body.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error_type").GetString()));
    }

    [Theory]
    [InlineData("héllo 東京")]
    [InlineData("naïve café, 😀 ok")]
    [InlineData("plain ascii text")]
    public async Task TokenizeGivesTheTokenizersIdsWithUtf8ByteSpans(string text)
    {
        var (status, body) = await PostAsync("/tokenize", JsonSerializer.Serialize(new { inputs = text }));
        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement[] tokens = Assert.Single(body.EnumerateArray()).EnumerateArray().ToArray();
        TokenEncoding expected = Tokenizer.Encode(text);
        Assert.Equal(expected.Ids, tokens.Select(t => t.GetProperty("id").GetInt32()));
        byte[] utf8 = Utf8.GetBytes(text);
        for (int i = 0; i < tokens.Length; i++)
        {
            JsonElement t = tokens[i];
            if (expected.SpecialTokensMask[i] == 1)
            {
                Assert.True(t.GetProperty("special").GetBoolean());
                Assert.Equal(expected.Tokens[i], t.GetProperty("text").GetString());
                Assert.Equal(JsonValueKind.Null, t.GetProperty("start").ValueKind);
                Assert.Equal(JsonValueKind.Null, t.GetProperty("stop").ValueKind);
                continue;
            }
            Assert.False(t.GetProperty("special").GetBoolean());
            (int start, int end) = expected.Offsets[i];
            int byteStart = t.GetProperty("start").GetInt32(), byteStop = t.GetProperty("stop").GetInt32();
            Assert.Equal(Utf8.GetByteCount(text.AsSpan(0, start)), byteStart);
            Assert.Equal(Utf8.GetByteCount(text.AsSpan(0, end)), byteStop);
            // The byte span and the text name the same part of the input.
            Assert.Equal(text[start..end], t.GetProperty("text").GetString());
            Assert.Equal(text[start..end], Utf8.GetString(utf8, byteStart, byteStop - byteStart));
        }
    }

    [Fact]
    public async Task TokenizeSpansOfNonAsciiTextAreBytes()
    {
        var (_, body) = await PostAsync("/tokenize", """{"inputs": "héllo 東京"}""");
        JsonElement[] tokens = body[0].EnumerateArray().ToArray();
        // "héllo " is 7 bytes (é is 2); each of 東 and 京 is 3.
        JsonElement tokyoEast = tokens.Single(t => t.GetProperty("text").GetString() == "東");
        JsonElement tokyoCapital = tokens.Single(t => t.GetProperty("text").GetString() == "京");
        Assert.Equal((7, 10), (tokyoEast.GetProperty("start").GetInt32(), tokyoEast.GetProperty("stop").GetInt32()));
        Assert.Equal((10, 13), (tokyoCapital.GetProperty("start").GetInt32(), tokyoCapital.GetProperty("stop").GetInt32()));
        Assert.Equal(0, tokens[1].GetProperty("start").GetInt32());
    }

    [Fact]
    public async Task TokenizeTakesListsAndCanLeaveOutSpecialTokens()
    {
        var (status, body) = await PostAsync("/tokenize", """{"inputs": ["hello world", "Paris"], "add_special_tokens": false}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetArrayLength());
        Assert.Equal(Tokenizer.Encode("hello world", addSpecialTokens: false).Ids, body[0].EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
        Assert.Equal(Tokenizer.Encode("Paris", addSpecialTokens: false).Ids, body[1].EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
        Assert.All(body.EnumerateArray().SelectMany(list => list.EnumerateArray()), t => Assert.False(t.GetProperty("special").GetBoolean()));
    }

    [Fact]
    public async Task DecodeRoundTripsTokenize()
    {
        var (_, tokenized) = await PostAsync("/tokenize", """{"inputs": ["Hello, world!", "the quick brown fox"]}""");
        int[][] ids = tokenized.EnumerateArray().Select(list => list.EnumerateArray().Select(t => t.GetProperty("id").GetInt32()).ToArray()).ToArray();

        var (status, texts) = await PostAsync("/decode", JsonSerializer.Serialize(new { ids }));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["hello, world!", "the quick brown fox"], texts.EnumerateArray().Select(t => t.GetString()));

        var (flatStatus, flat) = await PostAsync("/decode", JsonSerializer.Serialize(new { ids = ids[1], skip_special_tokens = false }));
        Assert.Equal(HttpStatusCode.OK, flatStatus);
        Assert.Equal("[CLS] the quick brown fox [SEP]", Assert.Single(flat.EnumerateArray()).GetString());
        Assert.Equal(Tokenizer.Decode(ids[1], skipSpecialTokens: false), flat[0].GetString());
    }

    [Fact]
    public async Task DecodeSkipsIdsOutsideTheVocabularyAndTakesEmptyLists()
    {
        var (status, texts) = await PostAsync("/decode", """{"ids": [[101, 999999999, 7592, 102], []]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["hello", ""], texts.EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task SimilarityOfASentenceWithItselfIsOneAndOrderIsKept()
    {
        string request = """
            {"inputs": {"source_sentence": "A cat sits on the mat",
                        "sentences": ["A cat sits on the mat", "Stock markets fell sharply today", "A kitten is sitting on a rug"]}}
            """;
        var (status, scores) = await PostAsync("/similarity", request);
        Assert.Equal(HttpStatusCode.OK, status);
        float[] s = scores.EnumerateArray().Select(x => x.GetSingle()).ToArray();
        Assert.Equal(3, s.Length);
        Assert.Equal(1.0, s[0], 4);
        Assert.True(s[2] > s[1], $"related {s[2]} should beat unrelated {s[1]}");

        // The same scores as the HF pipeline's sentence-similarity, which shares the computation.
        var (_, hf) = await PostAsync($"/pipeline/sentence-similarity/{ModelId}", request);
        Assert.Equal(hf.GetRawText(), scores.GetRawText());

        var (withParameters, same) = await PostAsync("/similarity",
            """{"inputs": {"source_sentence": "a", "sentences": ["a"]}, "parameters": {"truncate": true, "truncation_direction": "Left"}}""");
        Assert.Equal(HttpStatusCode.OK, withParameters);
        Assert.Equal(1.0, same[0].GetDouble(), 4);
    }

    [Fact]
    public async Task InfoDescribesTheDefaultModel()
    {
        using HttpResponseMessage response = await Client.GetAsync("/info");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement info = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(ModelId, info.GetProperty("model_id").GetString());
        Assert.Equal(JsonValueKind.Null, info.GetProperty("model_sha").ValueKind);
        Assert.Equal("float32", info.GetProperty("model_dtype").GetString());
        Assert.Equal("mean", info.GetProperty("model_type").GetProperty("embedding").GetProperty("pooling").GetString());
        Assert.Equal(256, info.GetProperty("max_input_length").GetInt32());
        Assert.Equal(64, info.GetProperty("max_client_batch_size").GetInt32());
        Assert.Equal(512, info.GetProperty("max_concurrent_requests").GetInt32());
        Assert.Equal(16384, info.GetProperty("max_batch_tokens").GetInt32());
        Assert.Equal(128, info.GetProperty("max_batch_requests").GetInt32());
        Assert.False(info.GetProperty("auto_truncate").GetBoolean());
        Assert.True(info.GetProperty("tokenization_workers").GetInt32() >= 1);
        Assert.False(string.IsNullOrEmpty(info.GetProperty("version").GetString()));
    }

    [Theory]
    [InlineData("/tokenize", "{}", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/tokenize", """{"inputs": 5}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/tokenize", """{"inputs": []}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/tokenize", """{"inputs": [""]}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/tokenize", """{"inputs": [101, 102]}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/tokenize", """{"inputs": "x", "add_special_tokens": "yes"}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/tokenize", """{"inputs": "x", "prompt_name": "query"}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/tokenize", "{not json", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", "{}", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", """{"ids": "101 102"}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", """{"ids": []}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", """{"ids": [101, 1.5]}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", """{"ids": [-1]}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", """{"ids": ["hello"]}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", """{"ids": [101, 99999999999]}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", """{"ids": [[101], 102]}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", """{"ids": [[101], [1.5]]}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/decode", """{"ids": [101], "skip_special_tokens": 1}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/similarity", "{}", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/similarity", """{"inputs": "x"}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/similarity", """{"inputs": {"source_sentence": 1, "sentences": ["a"]}}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/similarity", """{"inputs": {"source_sentence": "a", "sentences": []}}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/similarity", """{"inputs": {"source_sentence": "a", "sentences": "b"}}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/similarity", """{"inputs": {"source_sentence": "", "sentences": ["b"]}}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/similarity", """{"inputs": {"source_sentence": "a", "sentences": ["b"]}, "truncation_direction": "Up"}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/similarity", """{"inputs": {"source_sentence": "a", "sentences": ["b"]}, "parameters": {"prompt_name": "query"}}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("/similarity", """{"inputs": {"source_sentence": "a", "sentences": ["b"]}, "parameters": 3}""", HttpStatusCode.UnprocessableEntity)]
    public async Task BadRequestsAreTeiClientErrors(string path, string body, HttpStatusCode expected)
    {
        var (status, error) = await PostAsync(path, body);
        AssertTeiError(status, error, expected);
    }

    [Fact]
    public async Task TooManyInputsAre413()
    {
        var (status, error) = await PostAsync("/tokenize", JsonSerializer.Serialize(new { inputs = Enumerable.Repeat("a", 65).ToArray() }));
        AssertTeiError(status, error, HttpStatusCode.RequestEntityTooLarge);

        (status, error) = await PostAsync("/decode", JsonSerializer.Serialize(new { ids = Enumerable.Repeat(new[] { 101 }, 65).ToArray() }));
        AssertTeiError(status, error, HttpStatusCode.RequestEntityTooLarge);

        (status, error) = await PostAsync("/similarity", JsonSerializer.Serialize(new
        {
            inputs = new { source_sentence = "a", sentences = Enumerable.Repeat("b", 64).ToArray() },
        }));
        AssertTeiError(status, error, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task TooLongSimilarityInputIs422UnlessTruncated()
    {
        string longText = string.Join(' ', Enumerable.Repeat("token", 600));
        var (status, error) = await PostAsync("/similarity", JsonSerializer.Serialize(new { inputs = new { source_sentence = longText, sentences = new[] { "a" } } }));
        AssertTeiError(status, error, HttpStatusCode.UnprocessableEntity);

        var (ok, scores) = await PostAsync("/similarity", JsonSerializer.Serialize(new
        {
            inputs = new { source_sentence = longText, sentences = new[] { longText } },
            truncate = true,
        }));
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(1.0, scores[0].GetDouble(), 4);
    }
}
