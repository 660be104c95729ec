using System.Text.Json;
using Vivace.Formats.Safetensors;
using Vivace.Tests;

namespace Vivace.Server.Tests;

/// <summary>
/// <c>vivace generate</c> and <c>vivace forward</c> on decoders, as a user runs them: <c>--json</c> reproduces
/// transformers' <c>generate()</c> ids on the goldens (left padding kept), text mode streams a real model's story,
/// and bad requests are one-line errors.
/// </summary>
public class GenerateCliTests
{
    private static (int ExitCode, string Stdout, string Stderr) Vivace(string stdin, params string[] args) => VivaceProcess.Run(stdin, args);

    private static string Matrix(long[] values, int rows, int cols) =>
        "[" + string.Join(",", Enumerable.Range(0, rows).Select(r => "[" + string.Join(",", values.Skip(r * cols).Take(cols)) + "]")) + "]";

    [SkippableTheory]
    [InlineData("gpt2-small")]
    [InlineData("llama-small")]
    [InlineData("mistral-small")]
    [InlineData("qwen2-small")]
    [InlineData("phi3-small")]
    [InlineData("gemma-small")]
    [InlineData("llama-rope-yarn")]
    public void JsonModeReproducesTransformersGenerate(string name)
    {
        string dir = SharedData.Require("goldens", name);
        using var goldens = SafetensorsFile.Open(Path.Combine(dir, "goldens.safetensors"));
        var ids = goldens.GetRaw("input_ids");
        int batch = ids.Shape[0], seq = ids.Shape[1];
        var expected = goldens.GetRaw("generated_ids");
        int maxNew = expected.Shape[1] - seq;
        string request = $$"""{"input_ids": {{Matrix(ids.Span<long>().ToArray(), batch, seq)}}, "attention_mask": {{Matrix(goldens.GetRaw("attention_mask").Span<long>().ToArray(), batch, seq)}}, "max_new_tokens": {{maxNew}}, "do_sample": false}""";

        var (code, stdout, stderr) = Vivace(request, "generate", "--model", dir, "--json");

        Assert.True(code == 0, stderr);
        JsonElement generated = JsonDocument.Parse(stdout).RootElement.GetProperty("generated_ids");
        long[] got = generated.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(x => x.GetInt64())).ToArray();
        Assert.Equal(batch, generated.GetArrayLength());
        Assert.Equal(expected.Span<long>().ToArray(), got);
    }

    [SkippableFact]
    public void JsonModeOnTheFusedOnnxGpt2MatchesOnnxRuntimeGenai()
    {
        string dir = SharedData.Require("data", "ort-genai", "tiny-random-gpt2");
        var (code, stdout, stderr) = Vivace("""{"input_ids": [[0, 0, 0, 52], [0, 0, 195, 731]], "max_new_tokens": 6}""", "generate", "--model", dir, "--json");
        Assert.True(code == 0, stderr);
        // expected_outputs.json greedy_search: token 0 is not padding there (all-ones mask), max_length 10.
        Assert.Equal("""{"generated_ids":[[0,0,0,52,204,204,204,204,204,204],[0,0,195,731,731,114,114,114,114,114]]}""", stdout.Trim());
    }

    [SkippableFact]
    public void TextModeTellsStories260KsStory()
    {
        string dir = SharedData.Require("data", "llama2c-stories260K");
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected_output.json")));
        var (code, stdout, stderr) = Vivace("", "generate", "--model", dir, "--prompt", "", "--max-new-tokens", "200");
        Assert.True(code == 0, stderr);
        Assert.Equal(expected.RootElement.GetProperty("expected_text").GetString() + "\n", stdout);
    }

    [SkippableFact]
    public void SameSeedSameTextAndStopSequencesEndIt()
    {
        string dir = SharedData.Require("data", "llama2c-stories260K");
        string[] args = ["generate", "--model", dir, "--prompt", "Lily and Tom", "--max-new-tokens", "40", "--temperature", "0.9", "--seed", "11"];
        var first = Vivace("", args);
        var second = Vivace("", args);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(first.Stdout, second.Stdout);
        Assert.NotEqual(first.Stdout, Vivace("", [.. args[..^1], "12"]).Stdout);

        string greedy = Vivace("", "generate", "--model", dir, "--prompt", "Lily and Tom", "--max-new-tokens", "40").Stdout.TrimEnd('\n');
        string stop = greedy.Substring(greedy.Length / 2, 4);
        var stopped = Vivace("", "generate", "--model", dir, "--prompt", "Lily and Tom", "--max-new-tokens", "40", "--stop", stop);
        Assert.Equal(greedy[..greedy.IndexOf(stop, StringComparison.Ordinal)] + "\n", stopped.Stdout);
    }

    [SkippableFact]
    public void ForwardPrintsDecoderLogits()
    {
        string dir = SharedData.Require("goldens", "llama-small");
        var (code, stdout, stderr) = Vivace("""{"input_ids": [[0, 5, 6, 7]], "attention_mask": [[0, 1, 1, 1]]}""", "forward", "--model", dir);
        Assert.True(code == 0, stderr);
        JsonElement logits = JsonDocument.Parse(stdout).RootElement.GetProperty("logits");
        Assert.Equal(1, logits.GetArrayLength());
        Assert.Equal(4, logits[0].GetArrayLength());
        Assert.Equal(1000, logits[0][3].GetArrayLength());
    }

    [SkippableTheory]
    [InlineData("top_p", "--prompt", "x", "--top-p", "1.5")]
    [InlineData("temperature", "--prompt", "x", "--temperature", "-1")]
    [InlineData("max_new_tokens", "--prompt", "x", "--max-new-tokens", "100000")]
    [InlineData("--prompt", "--max-new-tokens", "3")]
    public void BadRequestsAreOneLineErrors(string mentioned, params string[] args)
    {
        var (code, _, stderr) = Vivace("", ["generate", "--model", TestModels.Gpt2WithTokenizer(), .. args]);
        Assert.NotEqual(0, code);
        Assert.Contains(mentioned, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [SkippableTheory]
    [InlineData("""{"input_ids": [[1, 2]], "max_new_tokens": 2, "bogus": 1}""", "bogus")]
    [InlineData("""{"input_ids": [[1, 2]], "max_new_tokens": 2, "top_p": 0}""", "top_p")]
    [InlineData("""{"input_ids": [[1, 2]], "max_new_tokens": 300}""", "max_new_tokens")]
    [InlineData("""{"input_ids": [[1, 5000]], "max_new_tokens": 2}""", "5000")]
    [InlineData("""{"input_ids": [[1, 2], [3]], "max_new_tokens": 2}""", "different lengths")]
    [InlineData("""{"input_ids": [[1, 2]]}""", "max_new_tokens")]
    [InlineData("""[1, 2]""", "object")]
    public void BadJsonRequestsAreOneLineErrors(string stdin, string mentioned)
    {
        string dir = SharedData.Require("goldens", "gpt2-small");
        var (code, _, stderr) = Vivace(stdin, "generate", "--model", dir, "--json");
        Assert.NotEqual(0, code);
        Assert.Contains(mentioned, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}
