using Vivace.Cpu;
using Vivace.Engine;
using Vivace.Engine.Generation;
using Vivace.Models.Decoders;
using Vivace.Tests;

namespace Vivace.Engine.Tests;

/// <summary>
/// Text generation end to end on a real decoder with a real tokenizer (gpt2-small goldens + a byte-level BPE
/// tokenizer.json): the generator's ids equal the batched reference loop's, streamed text equals the final text, stop
/// sequences cut where they appear, seeds repeat, eos ends a sequence, and bad requests are client errors.
/// </summary>
public class TextGeneratorTests
{
    private const string Prompt = "Hello world, this is a test of";

    private static TextGenerator Load() => TextGenerator.Load(TestModels.Gpt2WithTokenizer(), CpuOps.Default, "gpt2-test");

    private static GenerationRequest Greedy(int maxNew = 24) => new() { Prompt = Prompt, MaxNewTokens = maxNew };

    [SkippableFact]
    public void GreedyIdsEqualTheBatchedReferenceLoop()
    {
        TextGenerator generator = Load();
        GenerationResult result = generator.Generate(Greedy());

        long[] prompt = result.PromptIds.Select(x => (long)x).ToArray();
        (long[] ids, int length) = BatchGenerator.Generate(generator.Model, 1, prompt.Length, prompt,
            Enumerable.Repeat(1L, prompt.Length).ToArray(), generator.Defaults.ToSettings(24));
        Assert.Equal(ids.Skip(prompt.Length).Take(length - prompt.Length), result.Tokens.Select(t => (long)t.Id));
        Assert.Equal(24, result.GeneratedTokens);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        // Byte-level BPE decodes by concatenation, so the generated text is the decode of the new ids alone.
        Assert.Equal(generator.Tokenizer.Decode(result.Tokens.Select(t => t.Id).ToArray()), result.GeneratedText);
        Assert.Equal(Prompt, result.PromptText);
    }

    [SkippableFact]
    public void StreamedTextConcatenatesToTheResult()
    {
        TextGenerator generator = Load();
        var steps = generator.Stream(Greedy()).ToList();
        GenerationResult final = steps[^1].Final!;
        Assert.All(steps.SkipLast(1), s => Assert.Null(s.Final));
        Assert.Equal(final.GeneratedText, string.Concat(steps.Select(s => s.Token.Text)));
        Assert.Equal(final.GeneratedText, string.Concat(steps.Select(s => s.SafeText)));
        Assert.Equal(Enumerable.Range(0, steps.Count), steps.Select(s => s.Index));
    }

    [SkippableFact]
    public void StopSequenceCutsTheTextAcrossTokenBoundaries()
    {
        TextGenerator generator = Load();
        GenerationResult full = generator.Generate(Greedy(40));
        // A stop string straddling the boundary between two tokens' texts, some way into the generation.
        var texts = full.Tokens.Select(t => t.Text).ToList();
        int boundary = texts.Take(6).Sum(t => t.Length);
        Assert.True(texts[5].Length > 0 && texts[6].Length > 0, "test needs non-empty token texts");
        string stop = full.GeneratedText.Substring(boundary - 1, 2);
        int at = full.GeneratedText.IndexOf(stop, StringComparison.Ordinal);

        var steps = generator.Stream(Greedy(40) with { Stop = ["never appears \u0001", stop] }).ToList();
        GenerationResult cut = steps[^1].Final!;

        Assert.Equal(FinishReason.StopSequence, cut.FinishReason);
        Assert.Equal(stop, cut.StopSequence);
        Assert.Equal(full.GeneratedText[..(at + stop.Length)], cut.GeneratedText); // TGI: the stop sequence kept
        Assert.Equal(full.GeneratedText[..at], cut.TextBeforeStop);                // OpenAI: cut before it
        Assert.Equal(cut.TextBeforeStop, string.Concat(steps.Select(s => s.SafeText)));
        Assert.True(cut.GeneratedTokens < full.GeneratedTokens);
    }

    [SkippableFact]
    public void SameSeedSameSampleDifferentSeedDifferent()
    {
        TextGenerator generator = Load();
        GenerationRequest Sampled(ulong seed) => Greedy(32) with
        {
            Sampling = new SamplingParameters { DoSample = true, Temperature = 1.5f, Seed = seed },
        };
        GenerationResult a = generator.Generate(Sampled(7)), b = generator.Generate(Sampled(7)), c = generator.Generate(Sampled(8));
        Assert.Equal(a.Tokens.Select(t => t.Id), b.Tokens.Select(t => t.Id));
        Assert.NotEqual(a.Tokens.Select(t => t.Id), c.Tokens.Select(t => t.Id));
        Assert.Equal(7UL, a.Seed);
        Assert.Null(generator.Generate(Greedy()).Seed);
    }

    [SkippableFact]
    public void EosTokenEndsGeneration()
    {
        TextGenerator plain = Load();
        // A repetition penalty keeps this random model from repeating one token, so there are distinct tokens to pick.
        GenerationRequest request = Greedy() with { Sampling = new SamplingParameters { RepetitionPenalty = 3f } };
        GenerationResult full = plain.Generate(request);
        // The first token that is new: as eos it must end generation right there.
        int k = Enumerable.Range(1, full.GeneratedTokens - 1)
            .First(i => !full.Tokens.Take(i).Any(t => t.Id == full.Tokens[i].Id));
        int eos = full.Tokens[k].Id;
        var generator = new TextGenerator("gpt2-test", plain.Model, plain.Tokenizer, plain.Defaults with { EosTokenIds = [eos] });

        GenerationResult ended = generator.Generate(request);
        Assert.Equal(FinishReason.EosToken, ended.FinishReason);
        Assert.Equal(full.Tokens.Take(k + 1).Select(t => t.Id), ended.Tokens.Select(t => t.Id));
        Assert.Equal(full.Tokens.Select(t => t.Id), generator.Generate(request with { IgnoreEos = true }).Tokens.Select(t => t.Id));
    }

    [SkippableFact]
    public void TopTokensAndLogprobsDescribeTheChoice()
    {
        TextGenerator generator = Load();
        GenerationResult result = generator.Generate(Greedy(8) with { Sampling = new SamplingParameters { TopNTokens = 3 } });
        foreach (GeneratedToken token in result.Tokens)
        {
            Assert.Equal(3, token.TopTokens.Count);
            Assert.Equal(token.Id, token.TopTokens[0].Id); // greedy picks the most likely
            Assert.Equal(token.Logprob, token.TopTokens[0].Logprob, 5);
            Assert.True(token.Logprob <= 0);
            Assert.True(token.TopTokens[0].Logprob >= token.TopTokens[1].Logprob && token.TopTokens[1].Logprob >= token.TopTokens[2].Logprob);
        }
    }

    [SkippableFact]
    public void TruncateKeepsThePromptsEnd()
    {
        TextGenerator generator = Load();
        string longPrompt = string.Concat(Enumerable.Repeat("one two three four five six seven ", 60));
        int tokens = generator.Tokenizer.EncodeToIds(longPrompt).Length;
        Assert.True(tokens > generator.MaxTotalTokens, $"prompt of {tokens} tokens must exceed the {generator.MaxTotalTokens} context");

        var tooLong = Assert.Throws<InvalidInputException>(() => generator.Stream(new GenerationRequest { Prompt = longPrompt, MaxNewTokens = 4 }));
        Assert.True(tooLong.TooLong);
        Assert.Contains("truncate", tooLong.Message);

        GenerationResult cut = generator.Generate(new GenerationRequest { Prompt = longPrompt, MaxNewTokens = 4, Truncate = 100 });
        Assert.True(cut.PromptTruncated);
        Assert.Equal(generator.Tokenizer.EncodeToIds(longPrompt)[^100..], cut.PromptIds);
        Assert.Equal(4, cut.GeneratedTokens);
    }

    [SkippableFact]
    public void DefaultLengthFitsTheContext()
    {
        TextGenerator generator = Load();
        Assert.Equal(TextGenerator.FallbackMaxNewTokens, generator.Generate(new GenerationRequest { Prompt = Prompt }).GeneratedTokens);
        // With no max_new_tokens given, a prompt near the end of the context gets what room is left instead of an error.
        int room = 3;
        var ids = Enumerable.Range(10, generator.MaxTotalTokens - room).ToArray();
        Assert.Equal(room, generator.Generate(new GenerationRequest { PromptIds = ids }).GeneratedTokens);
    }

    public static TheoryData<string, GenerationRequest> BadRequests => new()
    {
        { "max_new_tokens", new GenerationRequest { Prompt = Prompt, MaxNewTokens = 0 } },
        { "256", new GenerationRequest { Prompt = Prompt, MaxNewTokens = 300 } },
        { "temperature", new GenerationRequest { Prompt = Prompt, Sampling = new SamplingParameters { DoSample = true, Temperature = -1 } } },
        { "top_p", new GenerationRequest { Prompt = Prompt, Sampling = new SamplingParameters { DoSample = true, TopP = 0 } } },
        { "top_p", new GenerationRequest { Prompt = Prompt, Sampling = new SamplingParameters { DoSample = true, TopP = 1.5f } } },
        { "empty", new GenerationRequest { Prompt = "" } },
        { "vocabulary", new GenerationRequest { PromptIds = [1, 2, 5000] } },
        { "either", new GenerationRequest { Prompt = "a", PromptIds = [1] } },
        { "truncate", new GenerationRequest { Prompt = Prompt, Truncate = 0 } },
        { "stop", new GenerationRequest { Prompt = Prompt, Stop = [""] } },
    };

    [SkippableTheory]
    [MemberData(nameof(BadRequests))]
    public void BadRequestsAreClientErrorsNamingTheProblem(string mention, GenerationRequest request)
    {
        TextGenerator generator = Load();
        var e = Assert.Throws<InvalidInputException>(() => generator.Stream(request));
        Assert.Contains(mention, e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);
    }
}

/// <summary>A real pretrained model through the whole text path: llama2.c's stories260K with its SentencePiece tokenizer.</summary>
public class Llama2cTextGenerationTests
{
    [SkippableFact]
    public void EmptyPromptReproducesRunCText()
    {
        string dir = SharedData.Require("data", "llama2c-stories260K");
        using var expected = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected_output.json")));
        TextGenerator generator = TextGenerator.Load(dir, CpuOps.Default);
        Assert.Equal("llama2c-stories260K", generator.ModelId);

        // The empty prompt is BOS alone, as run.c starts; its 200 steps print 200 tokens.
        var steps = generator.Stream(new GenerationRequest { Prompt = "", MaxNewTokens = 200 }).ToList();
        GenerationResult result = steps[^1].Final!;

        Assert.Equal([1], result.PromptIds);
        Assert.Equal(expected.RootElement.GetProperty("expected_text").GetString(), result.GeneratedText);
        Assert.Equal(result.GeneratedText, string.Concat(steps.Select(s => s.SafeText)));
    }

    [SkippableFact]
    public void PromptContinuesWithItsSpacing()
    {
        string dir = SharedData.Require("data", "llama2c-stories260K");
        TextGenerator generator = TextGenerator.Load(dir, CpuOps.Default);
        GenerationResult result = generator.Generate(new GenerationRequest { Prompt = "Once upon a time", MaxNewTokens = 12 });
        // The story goes on as the model learnt it ("Once upon a time, there was ..."), the comma glued to the prompt,
        // and the streamed text is exactly what decoding prompt + continuation adds to the prompt.
        Assert.StartsWith(", there", result.GeneratedText);
        Assert.Equal(generator.Tokenizer.Decode([.. result.PromptIds, .. result.Tokens.Select(t => t.Id)]),
            result.PromptText + result.GeneratedText);
    }
}
