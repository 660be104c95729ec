using System.Text.Json;
using Vivace.Tests;

namespace Vivace.Server.Tests;

/// <summary>The <c>vivace</c> command as a user runs it: a separate process, stdin in, stdout out, exit code.</summary>
public class CliTests
{
    private static (int ExitCode, string Stdout, string Stderr) Vivace(string stdin, params string[] args) => VivaceProcess.Run(stdin, args);

    [Fact]
    public void EmbedPrintsOneNormalizedVectorPerLine()
    {
        var (code, stdout, stderr) = Vivace("\"Hello world\"\n\"Bonjour le monde\"\n\"\"\n", "embed");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        foreach (string line in lines)
        {
            float[] v = JsonSerializer.Deserialize<float[]>(line)!;
            Assert.Equal(384, v.Length);
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4);
        }
    }

    [Fact]
    public void EmbedWithInt8QuantizationStaysCloseToF32()
    {
        const string Lines = "\"Hello world\"\n\"The quick brown fox jumps over the lazy dog.\"\n\"Bonjour le monde\"\n";
        var (code, f32, stderr) = Vivace(Lines, "embed");
        Assert.True(code == 0, stderr);
        (code, string int8, stderr) = Vivace(Lines, "embed", "--quantize", "int8");
        Assert.True(code == 0, stderr);
        string[] a = f32.Split('\n', StringSplitOptions.RemoveEmptyEntries), b = int8.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            float[] x = JsonSerializer.Deserialize<float[]>(a[i])!, y = JsonSerializer.Deserialize<float[]>(b[i])!;
            Assert.NotEqual(x, y); // quantized for real
            double cosine = x.Zip(y, (p, q) => (double)p * q).Sum(); // both unit length
            Assert.True(cosine >= 0.995, $"line {i}: cosine {cosine} to f32");
        }
    }

    [Theory]
    [InlineData("embed", "--quantize", "q3_zz", "--quantize q3_zz")]
    [InlineData("embed", "--dtype", "f64", "--dtype f64")]
    [InlineData("embed", "--dtype", "bf16", "--quantize q8_0", "--quantize", "q8_0")]
    public void UnknownPrecisionIsAClearError(string verb, string option, string value, string mentioned, params string[] more)
    {
        var (code, _, stderr) = Vivace("\"x\"\n", [verb, option, value, .. more]);
        Assert.NotEqual(0, code);
        Assert.Contains(mentioned, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void EmbedRejectsALineThatIsNotAJsonString()
    {
        var (code, _, stderr) = Vivace("\"ok\"\n{\"not\": \"a string\"}\n", "embed");
        Assert.NotEqual(0, code);
        Assert.Contains("line 2", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [SkippableFact]
    public void ForwardPrintsHfNamedOutputs()
    {
        string dir = SharedData.Require("goldens", "bert-small");
        var (code, stdout, stderr) = Vivace("""{"input_ids": [[2, 45, 67, 3], [2, 7, 3, 0]], "attention_mask": [[1, 1, 1, 1], [1, 1, 1, 0]]}""",
            "forward", "--model", dir);
        Assert.True(code == 0, stderr);
        JsonElement outputs = JsonDocument.Parse(stdout).RootElement;
        JsonElement hidden = outputs.GetProperty("last_hidden_state");
        Assert.Equal(2, hidden.GetArrayLength());
        Assert.Equal(4, hidden[0].GetArrayLength());
        Assert.Equal(32, hidden[0][0].GetArrayLength());
        Assert.Equal(2, outputs.GetProperty("pooler_output").GetArrayLength());
        Assert.Equal(32, outputs.GetProperty("pooler_output")[0].GetArrayLength());
    }

    [Theory]
    [InlineData("/no/such/dir", "/no/such/dir")]
    public void MissingModelIsAClearErrorWithoutStackTrace(string model, string mentioned)
    {
        var (code, _, stderr) = Vivace("\"x\"\n", "embed", "--model", model);
        Assert.NotEqual(0, code);
        Assert.Contains(mentioned, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [SkippableFact]
    public void CorruptModelFilesAreClearErrorsNamingTheFile()
    {
        string golden = SharedData.Require("goldens", "bert-small", "model.safetensors");
        string dir = Directory.CreateTempSubdirectory("vivace-corrupt-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), """{"model_type": "bert", "hidden_size": "large"}""");
            File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), [1, 2, 3]);
            File.WriteAllText(Path.Combine(dir, "vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
            var (code, _, stderr) = Vivace("\"hello\"\n", "embed", "--model", dir);
            Assert.NotEqual(0, code);
            Assert.Contains("model.safetensors", stderr);
            Assert.DoesNotContain("   at ", stderr);

            File.Copy(golden, Path.Combine(dir, "model.safetensors"), overwrite: true);
            (code, _, stderr) = Vivace("\"hello\"\n", "embed", "--model", dir);
            Assert.NotEqual(0, code);
            Assert.Contains("hidden_size", stderr);
            Assert.Contains("config.json", stderr);

            File.WriteAllText(Path.Combine(dir, "config.json"), """{"model_type": "gpt-neo", "hidden_size": 32}""");
            (code, _, stderr) = Vivace("\"hello\"\n", "embed", "--model", dir);
            Assert.NotEqual(0, code);
            Assert.Contains("gpt-neo", stderr);
            Assert.Contains("model_type", stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public void ForwardRejectsBadInputs()
    {
        string dir = SharedData.Require("goldens", "bert-small");
        foreach (string input in new[] { "{}", "[]", """{"input_ids": [[1, 2], [3]]}""", """{"input_ids": [[1, 999999]]}""", """{"input_ids": [[1]], "bogus": 1}""", "not json" })
        {
            var (code, _, stderr) = Vivace(input, "forward", "--model", dir);
            Assert.True(code != 0, $"accepted {input}");
            Assert.StartsWith("error:", stderr.Trim());
            Assert.DoesNotContain("   at ", stderr);
        }
    }
}
