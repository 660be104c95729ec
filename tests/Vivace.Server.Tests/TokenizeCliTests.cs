using System.Text.Json;
using System.Text.Json.Nodes;
using Vivace.Tests;

namespace Vivace.Server.Tests;

/// <summary><c>vivace tokenize</c> as a user runs it: a separate process, JSON Lines in, id arrays out.</summary>
public class TokenizeCliTests
{
    private static (int ExitCode, string Stdout, string Stderr) Vivace(string stdin, params string[] args) => VivaceProcess.Run(stdin, args);

    private static int[][] Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<int[]>(l)!).ToArray();

    [SkippableFact]
    public void T5_ids_with_and_without_special_tokens()
    {
        string t5 = SharedData.Require("data", "ort-extensions", "t5-small", "tokenizer.json");
        var (code, stdout, stderr) = Vivace("\"hello world\"\n\n\"Hello, World!\"\n", "tokenize", "--tokenizer", t5);
        Assert.True(code == 0, stderr);
        var lines = Lines(stdout);
        Assert.Equal(2, lines.Length);
        Assert.Equal([21820, 296, 1], lines[0]);
        Assert.Equal(1, lines[1][^1]);

        (code, stdout, stderr) = Vivace("\"hello world\"\n", "tokenize", "--tokenizer", t5, "--no-special-tokens");
        Assert.True(code == 0, stderr);
        Assert.Equal([21820, 296], Lines(stdout)[0]);
    }

    [SkippableFact]
    public void Directory_and_gguf_inputs()
    {
        string dir = Path.GetDirectoryName(SharedData.Require("data", "ort-extensions", "t5-small", "tokenizer.json"))!;
        var (code, stdout, stderr) = Vivace("\"hello world\"\n", "tokenize", "--tokenizer", dir);
        Assert.True(code == 0, stderr);
        Assert.Equal([21820, 296, 1], Lines(stdout)[0]);

        string gguf = SharedData.Require("data", "llama.cpp", "ggml-vocab-bert-bge.gguf");
        (code, stdout, stderr) = Vivace("\"Hello world\"\n", "tokenize", "--tokenizer", gguf);
        Assert.True(code == 0, stderr);
        Assert.Equal([101, 7592, 2088, 102], Lines(stdout)[0]);
    }

    [SkippableFact]
    public void Truncation_and_padding_from_the_file()
    {
        string src = SharedData.Require("data", "ort-extensions", "t5-small", "tokenizer.json");
        var json = JsonNode.Parse(File.ReadAllText(src))!.AsObject();
        json["truncation"] = JsonNode.Parse("""{"max_length":4,"strategy":"LongestFirst","direction":"Right","stride":0}""");
        json["padding"] = JsonNode.Parse("""{"strategy":{"Fixed":6},"direction":"Right","pad_to_multiple_of":null,"pad_id":0,"pad_type_id":0,"pad_token":"<pad>"}""");
        string path = Path.Combine(Path.GetTempPath(), $"vivace-cli-t5-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json.ToJsonString());
        try
        {
            var (code, stdout, stderr) = Vivace("\"The quick brown fox jumps over the lazy dog\"\n\"hi\"\n", "tokenize", "--tokenizer", path);
            Assert.True(code == 0, stderr);
            var lines = Lines(stdout);
            Assert.Equal(6, lines[0].Length);
            Assert.Equal(1, lines[0][3]); // </s> after 3 tokens
            Assert.Equal([0, 0], lines[0][4..]);
            Assert.Equal(6, lines[1].Length);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Bad_input_is_one_error_line()
    {
        string tok = Path.Combine(Path.GetTempPath(), $"vivace-cli-wl-{Guid.NewGuid():N}.json");
        File.WriteAllText(tok, """{"version":"1.0","model":{"type":"WordLevel","vocab":{"[UNK]":0,"a":1},"unk_token":"[UNK]"},"pre_tokenizer":{"type":"Whitespace"}}""");
        try
        {
            var (code, stdout, stderr) = Vivace("\"a b\"\n[1,2]\n", "tokenize", "--tokenizer", tok);
            Assert.NotEqual(0, code);
            Assert.Contains("line 2", stderr);
            Assert.StartsWith("error:", stderr);
            Assert.DoesNotContain("   at ", stderr);

            (code, _, stderr) = Vivace("\"a\"\n", "tokenize", "--tokenizer", "/nonexistent/tokenizer.json");
            Assert.NotEqual(0, code);
            Assert.StartsWith("error:", stderr);
            Assert.DoesNotContain("   at ", stderr);

            File.WriteAllText(tok, "{ not json");
            (code, _, stderr) = Vivace("\"a\"\n", "tokenize", "--tokenizer", tok);
            Assert.NotEqual(0, code);
            Assert.StartsWith("error:", stderr);
            Assert.DoesNotContain("   at ", stderr);
        }
        finally { File.Delete(tok); }
    }

    [Fact]
    public void WordLevel_from_stdin_lines()
    {
        string tok = Path.Combine(Path.GetTempPath(), $"vivace-cli-wl-{Guid.NewGuid():N}.json");
        File.WriteAllText(tok, """{"version":"1.0","model":{"type":"WordLevel","vocab":{"[UNK]":0,"a":1,"b":2},"unk_token":"[UNK]"},"pre_tokenizer":{"type":"Whitespace"}}""");
        try
        {
            var (code, stdout, stderr) = Vivace("\"a b c\"\n\"b,a\"\n", "tokenize", "--tokenizer", tok);
            Assert.True(code == 0, stderr);
            var lines = Lines(stdout);
            Assert.Equal([1, 2, 0], lines[0]);
            Assert.Equal([2, 0, 1], lines[1]);
        }
        finally { File.Delete(tok); }
    }
}
