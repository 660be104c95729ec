using System.Net;
using System.Text;
using System.Text.Json;

namespace Vivace.Server.Tests;

/// <summary>
/// Hostile and malformed requests to the generation routes over real HTTP: each is a 4xx with a JSON error (OpenAI's
/// object under /v1), never a 5xx, and the server keeps serving (a generation right after each succeeds).
/// </summary>
public class GenerationBadInputTests(GenerationFixture fixture) : IClassFixture<GenerationFixture>
{
    /// <summary>TGI-shaped bodies, sent to /generate, /generate_stream, / and the HF text-generation routes.</summary>
    public static TheoryData<string, string, int?> TgiBodies()
    {
        string longPrompt = JsonSerializer.Serialize(string.Join(' ', Enumerable.Repeat("dog", 400)));
        return new TheoryData<string, string, int?>
        {
            { "empty body", "", 422 },
            { "not json", "hello", 422 },
            { "array body", """["a"]""", 422 },
            { "missing inputs", """{"parameters": {}}""", 422 },
            { "null inputs", """{"inputs": null}""", 422 },
            { "empty inputs", """{"inputs": ""}""", 422 },
            { "number inputs", """{"inputs": 5}""", 422 },
            { "list inputs", """{"inputs": ["a", "b"]}""", 422 },
            { "string parameters", """{"inputs": "a", "parameters": "p"}""", 422 },
            { "unknown parameter", """{"inputs": "a", "parameters": {"max_new_token": 5}}""", 422 },
            { "string max_new_tokens", """{"inputs": "a", "parameters": {"max_new_tokens": "5"}}""", 422 },
            { "float max_new_tokens", """{"inputs": "a", "parameters": {"max_new_tokens": 2.5}}""", 422 },
            { "zero max_new_tokens", """{"inputs": "a", "parameters": {"max_new_tokens": 0}}""", 422 },
            { "negative max_new_tokens", """{"inputs": "a", "parameters": {"max_new_tokens": -3}}""", 422 },
            { "max_new_tokens beyond the context", """{"inputs": "a", "parameters": {"max_new_tokens": 100000}}""", 422 },
            { "huge max_new_tokens", """{"inputs": "a", "parameters": {"max_new_tokens": 1e400}}""", 422 },
            { "prompt longer than the context", "{\"inputs\": " + longPrompt + ", \"parameters\": {\"max_new_tokens\": 2}}", 422 },
            { "zero truncate", """{"inputs": "a", "parameters": {"truncate": 0}}""", 422 },
            { "truncate beyond the context", """{"inputs": "a", "parameters": {"truncate": 100000}}""", 422 },
            { "negative temperature", """{"inputs": "a", "parameters": {"temperature": -0.5}}""", 422 },
            { "string temperature", """{"inputs": "a", "parameters": {"temperature": "hot"}}""", 422 },
            { "zero top_p", """{"inputs": "a", "parameters": {"top_p": 0}}""", 422 },
            { "top_p above 1", """{"inputs": "a", "parameters": {"top_p": 1.5}}""", 422 },
            { "negative top_k", """{"inputs": "a", "parameters": {"top_k": -1}}""", 422 },
            { "typical_p above 1", """{"inputs": "a", "parameters": {"typical_p": 2}}""", 422 },
            { "zero repetition_penalty", """{"inputs": "a", "parameters": {"repetition_penalty": 0}}""", 422 },
            { "negative seed", """{"inputs": "a", "parameters": {"seed": -1}}""", 422 },
            { "string stop", """{"inputs": "a", "parameters": {"stop": "x"}}""", 422 },
            { "five stops", """{"inputs": "a", "parameters": {"stop": ["a", "b", "c", "d", "e"]}}""", 422 },
            { "empty stop", """{"inputs": "a", "parameters": {"stop": [""]}}""", 422 },
            { "null stop item", """{"inputs": "a", "parameters": {"stop": [null]}}""", 422 },
            { "duplicate parameters", """{"inputs": "a", "parameters": {"top_k": 1, "top_k": 2}}""", 422 },
        };
    }

    /// <summary>Parameters only TGI's routes know (the HF routes refuse them as unknown: still a 422).</summary>
    public static TheoryData<string, string> TgiOnlyBodies() => new()
    {
        { "best_of 2", """{"inputs": "a", "parameters": {"best_of": 2}}""" },
        { "best_of 0", """{"inputs": "a", "parameters": {"best_of": 0}}""" },
        { "watermark", """{"inputs": "a", "parameters": {"watermark": true}}""" },
        { "decoder_input_details", """{"inputs": "a", "parameters": {"decoder_input_details": true}}""" },
        { "top_n_tokens above 20", """{"inputs": "a", "parameters": {"top_n_tokens": 21}}""" },
        { "frequency_penalty above 2", """{"inputs": "a", "parameters": {"frequency_penalty": 3}}""" },
        { "grammar", """{"inputs": "a", "parameters": {"grammar": {"type": "regex", "value": "a+"}}}""" },
    };

    public static TheoryData<string, string> OpenAiBodies()
    {
        return new TheoryData<string, string>
        {
            { "missing prompt", """{"model": "MODEL"}""" },
            { "null prompt", """{"model": "MODEL", "prompt": null}""" },
            { "empty prompt", """{"model": "MODEL", "prompt": ""}""" },
            { "empty prompt list", """{"model": "MODEL", "prompt": []}""" },
            { "two prompts", """{"model": "MODEL", "prompt": ["a", "b"]}""" },
            { "negative token id", """{"model": "MODEL", "prompt": [1, -2]}""" },
            { "token id past the vocabulary", """{"model": "MODEL", "prompt": [1, 5000]}""" },
            { "object prompt", """{"model": "MODEL", "prompt": {"a": 1}}""" },
            { "unknown field", """{"model": "MODEL", "prompt": "a", "max_token": 5}""" },
            { "n 2", """{"model": "MODEL", "prompt": "a", "n": 2}""" },
            { "best_of 3", """{"model": "MODEL", "prompt": "a", "best_of": 3}""" },
            { "suffix", """{"model": "MODEL", "prompt": "a", "suffix": "z"}""" },
            { "temperature 3", """{"model": "MODEL", "prompt": "a", "temperature": 3}""" },
            { "negative temperature", """{"model": "MODEL", "prompt": "a", "temperature": -1}""" },
            { "top_p 0", """{"model": "MODEL", "prompt": "a", "top_p": 0}""" },
            { "logprobs 6", """{"model": "MODEL", "prompt": "a", "logprobs": 6}""" },
            { "echo with logprobs", """{"model": "MODEL", "prompt": "a", "echo": true, "logprobs": 1}""" },
            { "five stops", """{"model": "MODEL", "prompt": "a", "stop": ["a", "b", "c", "d", "e"]}""" },
            { "number stop", """{"model": "MODEL", "prompt": "a", "stop": 5}""" },
            { "zero max_tokens", """{"model": "MODEL", "prompt": "a", "max_tokens": 0}""" },
            { "max_tokens beyond the context", """{"model": "MODEL", "prompt": "a", "max_tokens": 100000}""" },
            { "presence_penalty 5", """{"model": "MODEL", "prompt": "a", "presence_penalty": 5}""" },
            { "logit_bias", """{"model": "MODEL", "prompt": "a", "logit_bias": {"1": 5}}""" },
            { "unknown model", """{"model": "no/such-model", "prompt": "a"}""" },
            { "stream_options without stream", """{"model": "MODEL", "prompt": "a", "stream_options": {"include_usage": true}}""" },
            { "unknown stream_options", """{"model": "MODEL", "prompt": "a", "stream": true, "stream_options": {"x": true}}""" },
            { "string stream", """{"model": "MODEL", "prompt": "a", "stream": "yes"}""" },
        };
    }

    private GenerationFixture F
    {
        get
        {
            Skip.IfNot(fixture.Available, "shared test data (goldens/gpt2-small, data/ort-genai/tiny-random-gpt2) not found");
            return fixture;
        }
    }

    [SkippableTheory]
    [MemberData(nameof(TgiBodies))]
    public async Task BadTgiAndHfBodiesAreClientErrors(string name, string body, int? expected)
    {
        foreach (string path in new[] { "/generate", "/generate_stream", "/", $"/models/{F.ModelId}", $"/pipeline/text-generation/{F.ModelId}" })
            await AssertClientErrorAsync(path, body, $"{name} -> {path}", expected);
    }

    [SkippableTheory]
    [MemberData(nameof(TgiOnlyBodies))]
    public async Task UnsupportedTgiParametersAre422(string name, string body)
    {
        foreach (string path in new[] { "/generate", "/generate_stream", $"/models/{F.ModelId}" })
            await AssertClientErrorAsync(path, body, $"{name} -> {path}", 422);
    }

    [SkippableTheory]
    [MemberData(nameof(OpenAiBodies))]
    public async Task BadCompletionBodiesAreClientErrors(string name, string body)
    {
        body = body.Replace("MODEL", F.ModelId);
        await AssertClientErrorAsync("/v1/completions", body, name, null, openAi: true);
        // The same asking for a stream: still refused before any event (bodies that set stream themselves aside).
        if (!body.Contains("\"stream"))
            await AssertClientErrorAsync("/v1/completions", "{\"stream\": true, " + body.TrimStart()[1..], $"{name} (stream)", null, openAi: true);
    }

    /// <summary>4xx (the given one, if any) with a JSON error (OpenAI's object under /v1), no stack trace; then a
    /// health check and a short generation both succeed.</summary>
    private async Task AssertClientErrorAsync(string path, string body, string where, int? expected, bool openAi = false)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await F.Server.Client.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        int status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{where}: {status} {text}");
        if (expected is int e) Assert.True(status == e, $"{where}: {status}, expected {e}: {text}");
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("Exception", text);
        JsonElement error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        string? message = openAi ? error.GetProperty("message").GetString() : error.GetString();
        Assert.False(string.IsNullOrWhiteSpace(message), $"{where}: empty error: {text}");
        if (!openAi) Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(text).RootElement.GetProperty("error_type").GetString()));

        using HttpResponseMessage health = await F.Server.Client.GetAsync("/health");
        Assert.True(health.StatusCode == HttpStatusCode.OK, $"after {where}: /health answered {(int)health.StatusCode}");
    }

    [SkippableFact]
    public async Task TheServerStillGeneratesAfterTheBattery()
    {
        foreach ((string name, string body, _) in TgiBodies().Select(r => ((string)r[0], (string)r[1], r[2])))
        {
            using HttpResponseMessage bad = await F.Server.Client.PostAsync("/generate", TestServer.Json(body));
            Assert.True((int)bad.StatusCode is >= 400 and < 500, name);
        }
        var (status, json, _) = await F.Server.PostAsync("/generate", new { inputs = "a", parameters = new { max_new_tokens = 3 } });
        Assert.True(status == HttpStatusCode.OK, json.ToString());
        Assert.Equal(0, F.Server.Model(F.ModelId).Depth);
    }
}
