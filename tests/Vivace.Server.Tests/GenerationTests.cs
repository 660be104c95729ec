using System.Net;
using System.Text;
using System.Text.Json;
using Vivace.Engine.Generation;

namespace Vivace.Server.Tests;

/// <summary>
/// Text generation over real HTTP in the TGI, Hugging Face and OpenAI dialects, against the same model in-process:
/// greedy text equal to <see cref="TextGenerator.Generate"/>, details, stop sequences (TGI keeps the stop, OpenAI
/// cuts before it), seeds, streams whose pieces add up to the whole answer, and a request's output independent of the
/// requests beside it.
/// </summary>
public class GenerationTests(GenerationFixture fixture) : IClassFixture<GenerationFixture>
{
    private const string Prompt = "Hello, my dog is cute and";

    private GenerationFixture F
    {
        get
        {
            Skip.IfNot(fixture.Available, "shared test data (goldens/gpt2-small, data/ort-genai/tiny-random-gpt2) not found");
            return fixture;
        }
    }

    [SkippableFact]
    public async Task GenerateGreedyEqualsTheEngineInProcess()
    {
        GenerationResult expected = F.Greedy(Prompt, 20);
        Assert.NotEmpty(expected.GeneratedText);
        var (body, response) = await F.OkAsync("/generate", new { inputs = Prompt, parameters = new { max_new_tokens = 20, details = true } });
        Assert.Equal(expected.GeneratedText, body.GetProperty("generated_text").GetString());
        JsonElement details = body.GetProperty("details");
        Assert.Equal("length", details.GetProperty("finish_reason").GetString());
        Assert.Equal(20, details.GetProperty("generated_tokens").GetInt32());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("seed").ValueKind);
        Assert.Equal(0, details.GetProperty("prefill").GetArrayLength());
        Assert.False(details.TryGetProperty("top_tokens", out _));
        JsonElement[] tokens = details.GetProperty("tokens").EnumerateArray().ToArray();
        Assert.Equal(expected.Tokens.Select(t => t.Id), tokens.Select(t => t.GetProperty("id").GetInt32()));
        Assert.Equal(expected.Tokens.Select(t => t.Text), tokens.Select(t => t.GetProperty("text").GetString()));
        Assert.All(tokens, t => Assert.True(t.GetProperty("logprob").GetSingle() <= 0));
        Assert.All(tokens, t => Assert.False(t.GetProperty("special").GetBoolean()));
        Assert.Equal("20", response.Headers.GetValues("x-generated-tokens").Single());
        Assert.Equal(expected.PromptIds.Count.ToString(), response.Headers.GetValues("x-prompt-tokens").Single());
        Assert.Equal("cpu", response.Headers.GetValues("x-compute-type").Single());
        Assert.True(response.Headers.Contains("x-time-per-token") && response.Headers.Contains("x-queue-time") && response.Headers.Contains("x-inference-time"));

        // Without details: the text alone.
        (body, _) = await F.OkAsync("/generate", new { inputs = Prompt, parameters = new { max_new_tokens = 20 } });
        Assert.False(body.TryGetProperty("details", out _));
        // POST / (TGI's compat route): a list of one, with the prompt unless return_full_text is false (TGI's default for a
        // text-generation model); stream true answers as /generate_stream.
        (body, _) = await F.OkAsync("/", new { inputs = Prompt, parameters = new { max_new_tokens = 20 } });
        Assert.Equal(Prompt + expected.GeneratedText, Assert.Single(body.EnumerateArray()).GetProperty("generated_text").GetString());
        (body, _) = await F.OkAsync("/", new { inputs = Prompt, parameters = new { max_new_tokens = 20, return_full_text = false } });
        Assert.Equal(expected.GeneratedText, Assert.Single(body.EnumerateArray()).GetProperty("generated_text").GetString());
        List<string> events = await F.EventsAsync("/", new { inputs = Prompt, parameters = new { max_new_tokens = 20 }, stream = true });
        Assert.Equal(20, events.Count);
        Assert.Equal(Prompt + expected.GeneratedText, JsonDocument.Parse(events[^1]).RootElement.GetProperty("generated_text").GetString());
    }

    [SkippableFact]
    public async Task TopTokensAreReportedPerToken()
    {
        var (body, _) = await F.OkAsync("/generate", new { inputs = Prompt, parameters = new { max_new_tokens = 5, details = true, top_n_tokens = 3 } });
        JsonElement details = body.GetProperty("details");
        JsonElement[] top = details.GetProperty("top_tokens").EnumerateArray().ToArray();
        Assert.Equal(5, top.Length);
        JsonElement[] chosen = details.GetProperty("tokens").EnumerateArray().ToArray();
        for (int i = 0; i < top.Length; i++)
        {
            Assert.Equal(3, top[i].GetArrayLength());
            // Greedy: the chosen token is the most likely one.
            Assert.Equal(chosen[i].GetProperty("id").GetInt32(), top[i][0].GetProperty("id").GetInt32());
        }
    }

    [SkippableFact]
    public async Task StopSequencesEndGenerationTgiKeepsTheStopOpenAiCutsBeforeIt()
    {
        string full = F.Greedy(Prompt, 30).GeneratedText;
        // A stop string from the middle of the greedy text; generation ends at its first appearance.
        string stop = full.Substring(full.Length / 2, 3);
        int at = full.IndexOf(stop, StringComparison.Ordinal);

        var (tgi, _) = await F.OkAsync("/generate", new { inputs = Prompt, parameters = new { max_new_tokens = 30, stop = new[] { stop }, details = true } });
        Assert.Equal(full[..(at + stop.Length)], tgi.GetProperty("generated_text").GetString());
        Assert.Equal("stop_sequence", tgi.GetProperty("details").GetProperty("finish_reason").GetString());

        var (openAi, _) = await F.OkAsync("/v1/completions", new { model = F.ModelId, prompt = Prompt, max_tokens = 30, temperature = 0, stop });
        JsonElement choice = Assert.Single(openAi.GetProperty("choices").EnumerateArray());
        Assert.Equal(full[..at], choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());

        // Streamed: the deltas never show the stop and add up to the same text.
        List<string> events = await F.EventsAsync("/v1/completions", new { model = F.ModelId, prompt = Prompt, max_tokens = 30, temperature = 0, stop = new[] { stop }, stream = true });
        Assert.Equal(full[..at], Deltas(events));
    }

    [SkippableFact]
    public async Task TheSameSeedSamplesTheSameTextAnotherSeedAnother()
    {
        async Task<(string Text, ulong Seed)> Sample(ulong seed)
        {
            var (body, _) = await F.OkAsync("/generate",
                new { inputs = Prompt, parameters = new { max_new_tokens = 20, do_sample = true, temperature = 1.0, seed, details = true } });
            return (body.GetProperty("generated_text").GetString()!, body.GetProperty("details").GetProperty("seed").GetUInt64());
        }
        var a = await Sample(42);
        var b = await Sample(42);
        var c = await Sample(43);
        Assert.Equal(a, b);
        Assert.Equal(42UL, a.Seed);
        Assert.NotEqual(a.Text, c.Text);
        Assert.NotEqual(F.Greedy(Prompt, 20).GeneratedText, a.Text);

        // OpenAI samples by default (temperature 1): seeded, it repeats too.
        var first = await F.OkAsync("/v1/completions", new { model = F.ModelId, prompt = Prompt, max_tokens = 12, seed = 7 });
        var second = await F.OkAsync("/v1/completions", new { model = F.ModelId, prompt = Prompt, max_tokens = 12, seed = 7 });
        Assert.Equal(Text(first.Body), Text(second.Body));
    }

    [SkippableFact]
    public async Task GenerateStreamTokensAddUpToTheGeneratedText()
    {
        GenerationResult expected = F.Greedy(Prompt, 16);
        List<string> events = await F.EventsAsync("/generate_stream", new { inputs = Prompt, parameters = new { max_new_tokens = 16 } });
        JsonElement[] parsed = events.Select(e => JsonDocument.Parse(e).RootElement).ToArray();
        Assert.Equal(16, parsed.Length);
        for (int i = 0; i < parsed.Length; i++)
        {
            Assert.Equal(i, parsed[i].GetProperty("index").GetInt32());
            Assert.Equal(expected.Tokens[i].Id, parsed[i].GetProperty("token").GetProperty("id").GetInt32());
            if (i < parsed.Length - 1)
            {
                Assert.Equal(JsonValueKind.Null, parsed[i].GetProperty("generated_text").ValueKind);
                Assert.Equal(JsonValueKind.Null, parsed[i].GetProperty("details").ValueKind);
            }
        }
        string concatenated = string.Concat(parsed.Select(p => p.GetProperty("token").GetProperty("text").GetString()));
        JsonElement last = parsed[^1];
        Assert.Equal(expected.GeneratedText, last.GetProperty("generated_text").GetString());
        Assert.Equal(expected.GeneratedText, concatenated);
        JsonElement details = last.GetProperty("details");
        Assert.Equal("length", details.GetProperty("finish_reason").GetString());
        Assert.Equal(16, details.GetProperty("generated_tokens").GetInt32());
        Assert.Equal(expected.PromptIds.Count, details.GetProperty("input_length").GetInt32());

        // return_full_text puts the prompt before the text of the last event.
        events = await F.EventsAsync("/generate_stream", new { inputs = Prompt, parameters = new { max_new_tokens = 16, return_full_text = true } });
        Assert.Equal(Prompt + expected.GeneratedText, JsonDocument.Parse(events[^1]).RootElement.GetProperty("generated_text").GetString());
    }

    [SkippableFact]
    public async Task OpenAiCompletionsStreamAddsUpToTheWholeAnswer()
    {
        GenerationResult expected = F.Greedy(Prompt, 16);
        var (body, _) = await F.OkAsync("/v1/completions", new { model = F.ModelId, prompt = Prompt, max_tokens = 16, temperature = 0, logprobs = 2 });
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString());
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.Equal(F.ModelId, body.GetProperty("model").GetString());
        JsonElement choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(expected.GeneratedText, choice.GetProperty("text").GetString());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        JsonElement logprobs = choice.GetProperty("logprobs");
        Assert.Equal(16, logprobs.GetProperty("tokens").GetArrayLength());
        Assert.Equal(16, logprobs.GetProperty("token_logprobs").GetArrayLength());
        Assert.Equal(0, logprobs.GetProperty("text_offset")[0].GetInt32());
        Assert.InRange(logprobs.GetProperty("top_logprobs")[0].EnumerateObject().Count(), 1, 2);
        JsonElement usage = body.GetProperty("usage");
        Assert.Equal(expected.PromptIds.Count, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(16, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(expected.PromptIds.Count + 16, usage.GetProperty("total_tokens").GetInt32());

        List<string> events = await F.EventsAsync("/v1/completions", new { model = F.ModelId, prompt = Prompt, max_tokens = 16, temperature = 0, stream = true });
        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal(expected.GeneratedText, Deltas(events));
        JsonElement lastChunk = JsonDocument.Parse(events[^2]).RootElement;
        Assert.Equal("length", lastChunk.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.All(events.SkipLast(2), e => Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));

        // stream_options.include_usage: a last chunk with no choices and the usage.
        events = await F.EventsAsync("/v1/completions", new
        {
            model = F.ModelId, prompt = Prompt, max_tokens = 16, temperature = 0, stream = true, stream_options = new { include_usage = true },
        });
        JsonElement usageChunk = JsonDocument.Parse(events[^2]).RootElement;
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(16, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(expected.GeneratedText, Deltas(events[..^2]));

        // The prompt as token ids, and echo.
        (body, _) = await F.OkAsync("/v1/completions", new { model = F.ModelId, prompt = expected.PromptIds, max_tokens = 16, temperature = 0, echo = true });
        Assert.Equal(expected.PromptText + expected.GeneratedText, Text(body));
    }

    [SkippableFact]
    public async Task HfTextGenerationReturnsTheFullTextByDefault()
    {
        GenerationResult expected = F.Greedy(Prompt, 10);
        foreach (string path in new[] { $"/models/{F.ModelId}", $"/pipeline/text-generation/{F.ModelId}" })
        {
            var (body, _) = await F.OkAsync(path, new { inputs = Prompt, parameters = new { max_new_tokens = 10 } });
            Assert.Equal(Prompt + expected.GeneratedText, Assert.Single(body.EnumerateArray()).GetProperty("generated_text").GetString());
            (body, _) = await F.OkAsync(path, new { inputs = Prompt, parameters = new { max_new_tokens = 10, return_full_text = false } });
            Assert.Equal(expected.GeneratedText, Assert.Single(body.EnumerateArray()).GetProperty("generated_text").GetString());
        }

        // A deterministic request (greedy, or seeded) may be answered from the cache; an unseeded sample never is.
        var greedy = new { inputs = Prompt + " again", parameters = new { max_new_tokens = 3 } };
        var (_, first) = await F.OkAsync($"/models/{F.ModelId}", greedy);
        var (_, second) = await F.OkAsync($"/models/{F.ModelId}", greedy);
        Assert.Equal(("miss", "hit"), (first.Headers.GetValues("x-cache").Single(), second.Headers.GetValues("x-cache").Single()));
        var (_, sampled) = await F.OkAsync($"/models/{F.ModelId}", new { inputs = Prompt, parameters = new { max_new_tokens = 3, do_sample = true } });
        Assert.Equal("off", sampled.Headers.GetValues("x-cache").Single());

        // An unknown parameter is named with its place in the body.
        var (status, error, _) = await F.Server.PostAsync($"/models/{F.ModelId}", new { inputs = Prompt, parameters = new { max_length = 3 } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("'parameters.max_length'", error.GetProperty("error").GetString());
    }

    [SkippableFact]
    public async Task AGreedyAnswerIsTheSameAloneAndAmongOthers()
    {
        var alone = (await F.OkAsync("/generate", new { inputs = Prompt, parameters = new { max_new_tokens = 24 } })).Body.GetProperty("generated_text").GetString();
        string[] others = ["Once upon a time", "The capital of France is", "1, 2, 3, 4,", "In a galaxy far away"];
        var calls = new List<Task<(JsonElement Body, HttpResponseMessage Response)>>();
        for (int i = 0; i < others.Length; i++)
        {
            calls.Add(F.OkAsync("/generate", new { inputs = others[i], parameters = new { max_new_tokens = 24, do_sample = i % 2 == 0, seed = (ulong)i } }));
            if (i == 1) calls.Add(F.OkAsync("/generate", new { inputs = Prompt, parameters = new { max_new_tokens = 24 } }));
        }
        await Task.WhenAll(calls);
        Assert.Equal(alone, calls[2].Result.Body.GetProperty("generated_text").GetString());
        Assert.Equal(F.Greedy(Prompt, 24).GeneratedText, alone);
    }

    /// <summary>A client that leaves a stream whose generation waits in the queue: the request leaves the queue at once
    /// (while the worker is still held), never runs, and the next request is answered. (A generation that is already
    /// running leaves before the next pass: GenerationSchedulerTests, where the tiny model cannot outrun the cancellation.)</summary>
    [SkippableFact]
    public async Task AClientThatLeavesMidStreamFreesTheModel()
    {
        LoadedModel model = F.Server.Model(F.ModelId);
        var completed = new System.Collections.Concurrent.ConcurrentQueue<int>();
        using var release = new ManualResetEventSlim(false);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int armed = 1;
        void OnCompleted(string id, GenerationResult result)
        {
            completed.Enqueue(result.GeneratedTokens);
            if (Interlocked.Exchange(ref armed, 0) == 0) return;
            held.TrySetResult();
            release.Wait(TestServer.Patience); // the worker waits here: what is queued next stays queued
        }
        F.Server.Registry.GenerationCompleted += OnCompleted;
        try
        {
            await F.OkAsync("/generate", new { inputs = Prompt, parameters = new { max_new_tokens = 2 } });
            await held.Task;
            using (HttpClient client = F.Server.NewClient())
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/generate_stream")
                {
                    Content = TestServer.Json(new { inputs = Prompt, parameters = new { max_new_tokens = 7 } }),
                };
                using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await TestServer.WaitUntilAsync(() => model.Depth == 1, "the stream's generation is queued");
            } // the connection closes
            await TestServer.WaitUntilAsync(() => model.Depth == 0, "the abandoned generation left the queue");
        }
        finally
        {
            release.Set();
        }
        var (body, _) = await F.OkAsync("/generate", new { inputs = Prompt, parameters = new { max_new_tokens = 4 } });
        Assert.Equal(F.Greedy(Prompt, 4).GeneratedText, body.GetProperty("generated_text").GetString());
        await TestServer.WaitUntilAsync(() => completed.Count == 2, "the last generation was reported");
        F.Server.Registry.GenerationCompleted -= OnCompleted;
        Assert.Equal([2, 4], completed); // the abandoned one (7 tokens) never ran
    }

    [SkippableFact]
    public async Task EachRouteSaysWhatTheModelDoes()
    {
        // The default model generates: TEI's /embed and feature-extraction on it are 400s that say so.
        foreach (var (path, body) in new (string, object)[]
                 {
                     ("/embed", new { inputs = "a" }),
                     ($"/pipeline/feature-extraction/{F.ModelId}", new { inputs = "a" }),
                     ("/v1/embeddings", new { model = F.ModelId, input = "a" }),
                 })
        {
            var (status, error, _) = await F.Server.PostAsync(path, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{path}: {(int)status} {error}");
            Assert.Contains("text-generation model", error.GetRawText());
        }
        foreach (var (path, body) in new (string, object)[]
                 {
                     ($"/pipeline/text-generation/{GenerationFixture.Embedder}", new { inputs = "a" }),
                     ("/v1/completions", new { model = GenerationFixture.Embedder, prompt = "a" }),
                 })
        {
            var (status, error, _) = await F.Server.PostAsync(path, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{path}: {(int)status} {error}");
            Assert.Contains("embedding model", error.GetRawText());
        }
        // TEI's /tokenize and /decode work on any model with a tokenizer: here the generation model's.
        var (tokenized, _) = await F.OkAsync("/tokenize", new { inputs = Prompt });
        int[] ids = tokenized[0].EnumerateArray().Select(t => t.GetProperty("id").GetInt32()).ToArray();
        Assert.Equal(F.Local.Tokenizer.EncodeToIds(Prompt, true), ids);
        var (decoded, _) = await F.OkAsync("/decode", new { ids });
        Assert.Equal(Prompt, decoded[0].GetString());
        // The embedding model still embeds by name.
        await F.OkAsync($"/models/{GenerationFixture.Embedder}", new { inputs = "a" });
    }

    [SkippableFact]
    public async Task InfoModelsAndMetricsKnowTheGenerationModel()
    {
        JsonElement info = JsonDocument.Parse(await F.Server.Client.GetStringAsync("/info")).RootElement;
        Assert.Equal(F.ModelId, info.GetProperty("model_id").GetString());
        Assert.Equal("float32", info.GetProperty("model_dtype").GetString());
        Assert.Equal("text-generation", info.GetProperty("model_pipeline_tag").GetString());
        Assert.Equal(F.Local.MaxTotalTokens, info.GetProperty("max_total_tokens").GetInt32());
        Assert.Equal(F.Local.MaxTotalTokens - 1, info.GetProperty("max_input_tokens").GetInt32());
        Assert.Equal(1, info.GetProperty("max_best_of").GetInt32());
        Assert.Equal(4, info.GetProperty("max_stop_sequences").GetInt32());

        JsonElement models = JsonDocument.Parse(await F.Server.Client.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal([F.ModelId, GenerationFixture.Embedder], models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        await F.OkAsync("/generate", new { inputs = Prompt, parameters = new { max_new_tokens = 3 } });
        string metrics = await F.Server.MetricsAsync();
        Assert.True(TestServer.Sample(metrics, "vivace_generated_tokens_total", ("model", F.ModelId)) >= 3, metrics);
        Assert.True(TestServer.Sample(metrics, "vivace_time_to_first_token_seconds_count", ("model", F.ModelId)) >= 1);
        Assert.True(TestServer.Sample(metrics, "vivace_time_per_output_token_seconds_count", ("model", F.ModelId)) >= 1);
        Assert.True(TestServer.Sample(metrics, "vivace_generation_pass_sequences_count", ("model", F.ModelId)) >= 3);
    }

    [SkippableFact]
    public async Task APromptLongerThanTheContextIsTruncatedOnlyWhenAsked()
    {
        string longPrompt = string.Join(' ', Enumerable.Repeat("dog", 400));
        var (status, error, _) = await F.Server.PostAsync("/generate", new { inputs = longPrompt, parameters = new { max_new_tokens = 4 } });
        Assert.True(status == HttpStatusCode.UnprocessableEntity, $"{(int)status} {error}");
        Assert.Equal("validation", error.GetProperty("error_type").GetString()); // TGI's name
        var (body, response) = await F.OkAsync("/generate", new { inputs = longPrompt, parameters = new { max_new_tokens = 4, truncate = 100 } });
        Assert.Equal("100", response.Headers.GetValues("x-prompt-tokens").Single());
        Assert.Equal(F.Local.Generate(new GenerationRequest { Prompt = longPrompt, MaxNewTokens = 4, Truncate = 100 }).GeneratedText,
            body.GetProperty("generated_text").GetString());
    }

    private static string Text(JsonElement completion) => completion.GetProperty("choices")[0].GetProperty("text").GetString()!;

    /// <summary>The text of an OpenAI completion stream's chunks, in order ([DONE] aside).</summary>
    private static string Deltas(List<string> events)
    {
        var text = new StringBuilder();
        foreach (string e in events.Where(e => e != "[DONE]")) text.Append(Text(JsonDocument.Parse(e).RootElement));
        return text.ToString();
    }
}
