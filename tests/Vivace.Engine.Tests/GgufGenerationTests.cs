using System.Text.Json;
using Vivace.Cpu;
using Vivace.Engine.Generation;
using Vivace.Formats.Gguf;
using Vivace.Tests;

namespace Vivace.Engine.Tests;

/// <summary>
/// <see cref="ModelQuantizer"/> writes a real pretrained model (llama2.c's stories260K with its tokenizer) as GGUF, and
/// <see cref="TextGenerator.Load"/> runs the file — weights and tokenizer from the GGUF alone.
/// </summary>
public class GgufGenerationTests
{
    private static (string Dir, string Expected) Stories()
    {
        string dir = SharedData.Require("data", "llama2c-stories260K");
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected_output.json")));
        return (dir, expected.RootElement.GetProperty("expected_text").GetString()!);
    }

    private static string Generate(string file, int maxNewTokens)
    {
        TextGenerator generator = TextGenerator.Load(file, CpuOps.Default);
        return generator.Generate(new GenerationRequest { Prompt = "", MaxNewTokens = maxNewTokens }).GeneratedText;
    }

    [SkippableFact]
    public void F32GgufReproducesRunCText()
    {
        var (dir, expected) = Stories();
        string file = Path.Combine(Directory.CreateTempSubdirectory("vivace-gguf-").FullName, "stories260K-f32.gguf");
        try
        {
            GgufExportSummary summary = ModelQuantizer.Quantize(dir, file, GgufTarget.F32);
            Assert.All(summary.Tensors.Values, t => Assert.Equal(GgmlType.F32, t));
            TextGenerator generator = TextGenerator.Load(file, CpuOps.Default);
            Assert.Equal("stories260K-f32", generator.ModelId);
            Assert.Equal([1], generator.Tokenizer.EncodeToIds(""));
            Assert.Equal(expected, Generate(file, 200));
        }
        finally { Directory.Delete(Path.GetDirectoryName(file)!, recursive: true); }
    }

    [SkippableTheory]
    [InlineData(GgufTarget.Q8_0, GgmlType.Q8_0)]
    [InlineData(GgufTarget.Q4_0, GgmlType.Q4_0)]
    public void QuantizedGgufKeepsItsBlocksAndStillTellsTheStory(GgufTarget target, GgmlType type)
    {
        var (dir, _) = Stories();
        string file = Path.Combine(Directory.CreateTempSubdirectory("vivace-gguf-").FullName, $"stories260K-{target}.gguf");
        try
        {
            GgufExportSummary summary = ModelQuantizer.Quantize(dir, file, target);
            // dim 64 rows quantize; the FFN down projection's rows of 172 are not whole blocks and fall back to F16.
            Assert.Equal(type, summary.Tensors["blk.0.attn_q.weight"]);
            Assert.Equal(GgmlType.F16, summary.Tensors["blk.0.ffn_down.weight"]);
            Assert.Contains(summary.Notes, n => n.Contains("blk.0.ffn_down.weight"));
            Assert.True(new FileInfo(file).Length < new FileInfo(Path.Combine(dir, "stories260K.bin")).Length / 2);
            Assert.StartsWith("Once upon a time, there was a little girl named Lily.", Generate(file, 40));
        }
        finally { Directory.Delete(Path.GetDirectoryName(file)!, recursive: true); }
    }

    [SkippableFact]
    public void Bf16GgufLoadsItsWeightsAsBf16()
    {
        var (dir, _) = Stories();
        string file = Path.Combine(Directory.CreateTempSubdirectory("vivace-gguf-").FullName, "stories260K-bf16.gguf");
        try
        {
            GgufExportSummary summary = ModelQuantizer.Quantize(dir, file, GgufTarget.BF16);
            Assert.Equal(GgmlType.BF16, summary.Tensors["blk.0.ffn_down.weight"]);
            Assert.Equal(GgmlType.F32, summary.Tensors["blk.0.attn_norm.weight"]);
            // bf16 weights kept as bf16 compute what f32 weights of the same values compute: the model written back as
            // F32 from the bf16 file generates the same text.
            string viaBf16 = Generate(file, 60);
            string f32Copy = Path.Combine(Path.GetDirectoryName(file)!, "from-bf16-f32.gguf");
            ModelQuantizer.Quantize(file, f32Copy, GgufTarget.F32);
            Assert.Equal(Generate(f32Copy, 60), viaBf16);
            Assert.StartsWith("Once upon a time", viaBf16);
        }
        finally { Directory.Delete(Path.GetDirectoryName(file)!, recursive: true); }
    }

    [SkippableTheory]
    [InlineData(LinearPrecision.BF16)]
    [InlineData(LinearPrecision.Q8_0)]
    [InlineData(LinearPrecision.Q4_0)]
    public void QuantizingAsTheModelLoadsStillTellsTheStory(LinearPrecision precision)
    {
        var (dir, _) = Stories();
        using var ops = new CpuOps(2) { LinearPrecision = precision };
        TextGenerator generator = TextGenerator.Load(dir, ops);
        string text = generator.Generate(new GenerationRequest { Prompt = "", MaxNewTokens = 40 }).GeneratedText;
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", text);
    }

    [SkippableFact]
    public void OverwritingTheSourceAndUnsupportedModelsAreClearErrors()
    {
        string golden = SharedData.Require("goldens", "phi3-small");
        var e = Assert.Throws<Vivace.Formats.ModelFormatException>(() => ModelQuantizer.Quantize(golden, Path.GetTempFileName(), GgufTarget.Q8_0));
        Assert.Contains("phi3", e.Message);
        string bin = Path.Combine(SharedData.Require("data", "llama2c-stories260K"), "stories260K.bin");
        Assert.Throws<ArgumentException>(() => ModelQuantizer.Quantize(bin, bin, GgufTarget.Q8_0));
    }

    /// <summary>
    /// An HF directory under <paramref name="dir"/>: a golden checkpoint's weights and generation config, its config.json
    /// (with <paramref name="editConfig"/> applied), and the 1000-token byte-level tiny-random-gpt2 tokenizer.json.
    /// </summary>
    private static string ModelWithByteLevelTokenizer(string dir, string golden, Action<System.Text.Json.Nodes.JsonObject>? editConfig = null)
    {
        string tokenizer = SharedData.Require("data", "ort-genai", "tiny-random-gpt2", "tokenizer.json");
        Directory.CreateDirectory(dir);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(golden, "config.json")))!.AsObject();
        editConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        foreach (string name in new[] { "generation_config.json", "model.safetensors" })
            File.CreateSymbolicLink(Path.Combine(dir, name), Path.Combine(golden, name));
        File.CreateSymbolicLink(Path.Combine(dir, "tokenizer.json"), tokenizer);
        return dir;
    }

    /// <summary>
    /// Llama, Qwen2 and GPT-2 with a byte-level BPE tokenizer.json: a golden checkpoint (vocab 1000) with the 1000-token
    /// tiny-random-gpt2 tokenizer beside it, written as GGUF ("llama": q/k rows interleaved; "qwen2": q/k/v biases, rows
    /// as they are; "gpt2": Conv1D matrices transposed to ggml rows) and generated from again: the same prompt ids and the
    /// same greedy continuation as the HF directory, from the GGUF file alone.
    /// </summary>
    [SkippableTheory]
    [InlineData("llama-small", "llama")]
    [InlineData("qwen2-small", "qwen2")]
    [InlineData("gpt2-small", "gpt2")]
    public void ByteLevelTokenizerModelsRoundTripThroughGguf(string model, string architecture)
    {
        string root = Directory.CreateTempSubdirectory("vivace-bpe-gguf-").FullName;
        try
        {
            string dir = ModelWithByteLevelTokenizer(Path.Combine(root, model), SharedData.Require("goldens", model));
            string file = Path.Combine(root, model + ".gguf");
            GgufExportSummary summary = ModelQuantizer.Quantize(dir, file, GgufTarget.F32);
            using (GgufFile gguf = GgufFile.Open(file)) Assert.Equal(architecture, gguf.GetString("general.architecture"));
            Assert.Equal(architecture == "qwen2", summary.Tensors.ContainsKey("blk.0.attn_q.bias"));

            var request = new GenerationRequest { Prompt = "Hello world, this is a test", MaxNewTokens = 16 };
            TextGenerator fromHf = TextGenerator.Load(dir, CpuOps.Default), fromGguf = TextGenerator.Load(file, CpuOps.Default);
            Assert.Equal(fromHf.Tokenizer.EncodeToIds(request.Prompt), fromGguf.Tokenizer.EncodeToIds(request.Prompt));
            GenerationResult expected = fromHf.Generate(request), actual = fromGguf.Generate(request);
            Assert.Equal(expected.Tokens.Select(t => t.Id), actual.Tokens.Select(t => t.Id));
            Assert.Equal(expected.GeneratedText, actual.GeneratedText);
            Assert.NotEmpty(actual.Tokens);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [SkippableFact]
    public void ASlidingWindowModelIsRefused()
    {
        // mistral-small slides an 8-token window; llama.cpp's llama architecture attends to everything.
        string golden = SharedData.Require("goldens", "mistral-small");
        var e = Assert.Throws<Vivace.Formats.ModelFormatException>(() => ModelQuantizer.Quantize(golden, Path.GetTempFileName(), GgufTarget.F32));
        Assert.Contains("sliding", e.Message);
    }

    /// <summary>
    /// Llama 3.1's RoPE scaling: llama-small with a "llama3" rope (original context 64, so with head_dim 8 one frequency
    /// stays, one is blended and two are divided by the factor) goes to GGUF as llama.cpp's rope_freqs.weight and comes
    /// back generating what the HF directory generates — and the scaling shows: the default rope's logprobs differ.
    /// </summary>
    [SkippableFact]
    public void Llama3RopeScalingTravelsAsRopeFrequencyFactors()
    {
        string golden = SharedData.Require("goldens", "llama-small");
        string root = Directory.CreateTempSubdirectory("vivace-llama3-rope-").FullName;
        try
        {
            string dir = ModelWithByteLevelTokenizer(Path.Combine(root, "scaled"), golden, config => config["rope_parameters"] = new System.Text.Json.Nodes.JsonObject
            {
                ["rope_type"] = "llama3", ["rope_theta"] = 10000.0, ["factor"] = 8.0, ["low_freq_factor"] = 1.0,
                ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 64,
            });
            string file = Path.Combine(root, "llama3-rope.gguf");
            GgufExportSummary summary = ModelQuantizer.Quantize(dir, file, GgufTarget.F32);
            Assert.Equal(GgmlType.F32, summary.Tensors["rope_freqs.weight"]);
            using (GgufFile gguf = GgufFile.Open(file))
            {
                float[] factors = gguf.ReadF32(gguf.GetTensorInfo("rope_freqs.weight")).AsSpan().ToArray();
                Assert.Equal(4, factors.Length);
                Assert.Equal(1f, factors[0]);                               // wavelength 6.3 < 64/4: kept
                Assert.InRange(factors[1], 1.01f, 7.99f);                  // 63 between 16 and 64: blended
                Assert.Equal([8f, 8f], factors[2..]);                      // 628 and 6283 > 64: divided by the factor
            }

            var request = new GenerationRequest { Prompt = "Hello world, this is a test of a longer prompt", MaxNewTokens = 24 };
            GenerationResult expected = TextGenerator.Load(dir, CpuOps.Default).Generate(request);
            GenerationResult actual = TextGenerator.Load(file, CpuOps.Default).Generate(request);
            Assert.Equal(expected.Tokens.Select(t => t.Id), actual.Tokens.Select(t => t.Id));
            Assert.Equal(expected.Tokens[0].Logprob, actual.Tokens[0].Logprob, 5);
            string plain = ModelWithByteLevelTokenizer(Path.Combine(root, "plain"), golden);
            GenerationResult unscaled = TextGenerator.Load(plain, CpuOps.Default).Generate(request);
            Assert.NotEqual(unscaled.Tokens[0].Logprob, actual.Tokens[0].Logprob);
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
