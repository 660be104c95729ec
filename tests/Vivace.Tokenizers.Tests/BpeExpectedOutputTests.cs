using System.Text.Json;
using Xunit.Abstractions;
using static Vivace.Tokenizers.Tests.BpeTestFiles;

namespace Vivace.Tokenizers.Tests;

/// <summary>BPE outputs recorded from Python transformers / llama.cpp, paired with tokenizer files per MANIFEST.md.</summary>
public class BpeExpectedOutputTests(ITestOutputHelper output)
{
    private static JsonElement Json(string relative) => JsonDocument.Parse(File.ReadAllText(Oracle.Path(relative))).RootElement;

    private static IEnumerable<int> Ints(JsonElement a) => a.EnumerateArray().Select(x => x.GetInt32());

    [SkippableTheory]
    [InlineData("gpt-2", Gpt2)]
    [InlineData("roberta-bpe", Roberta)]
    [InlineData("llama-spm", Llama2)]
    [InlineData("phi-3", Phi3)]
    [InlineData("phi-2", Phi2)]
    [InlineData("falcon", Falcon)]
    [InlineData("llama-bpe", Llama3Tiktoken)]
    public void LlamaCpp_vocab_tests_without_special_tokens(string name, string file)
    {
        var inputs = File.ReadAllText(Oracle.Path("llama.cpp/vocab-tests/ggml-vocab.inp")).Split("\n__ggml_vocab_test__\n");
        var outputs = File.ReadAllLines(Oracle.Path($"llama.cpp/vocab-tests/ggml-vocab-{name}.gguf.out"));
        CompareLines(name, Load(file), inputs, outputs);
    }

    [SkippableFact]
    public void LlamaCpp_dbrx_cl100k()
    {
        var inputs = File.ReadAllText(Oracle.Path("llama.cpp/vocab-tests/ggml-vocab-dbrx.gguf.inp")).Split("\n__ggml_vocab_test__\n");
        var outputs = File.ReadAllLines(Oracle.Path("llama.cpp/vocab-tests/ggml-vocab-dbrx.gguf.out"));
        Assert.Equal(43, outputs.Length);
        CompareLines("dbrx", Load(Cl100kTiktoken), inputs, outputs);
    }

    private void CompareLines(string name, Tokenizer tok, string[] inputs, string[] outputs)
    {
        int bad = 0;
        var report = new System.Text.StringBuilder();
        for (int i = 0; i < outputs.Length; i++)
        {
            var expected = outputs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            var ours = tok.Encode(inputs[i], addSpecialTokens: false).Ids;
            if (expected.AsSpan().SequenceEqual(ours)) continue;
            if (bad++ < 6) report.AppendLine($"#{i} {OracleParityTests.Escape(inputs[i])}\n  exp:  {string.Join(' ', expected)}\n  ours: {string.Join(' ', ours)}");
        }
        output.WriteLine($"{name}: {outputs.Length - bad}/{outputs.Length}");
        Assert.True(bad == 0, $"{bad}/{outputs.Length} differ\n{report}");
    }

    [SkippableTheory]
    [InlineData("gpt-2.txt")]
    [InlineData("gpt-j.txt")]
    public void Ggml_prompts_gpt2(string file)
    {
        var tok = Load(Gpt2);
        int n = 0, bad = 0;
        string? first = null;
        foreach (string line in File.ReadLines(Oracle.Path($"ggml-prompts/{file}")))
        {
            int sep = line.LastIndexOf(" => ", StringComparison.Ordinal);
            if (sep < 0) continue;
            var expected = line[(sep + 4)..].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            var ours = tok.Encode(line[..sep], addSpecialTokens: false).Ids;
            n++;
            if (!expected.AsSpan().SequenceEqual(ours)) { bad++; first ??= line; }
        }
        output.WriteLine($"{file}: {n - bad}/{n}");
        Assert.True(n >= 100 && bad == 0, $"{bad}/{n} differ, first: {first}");
    }

    [SkippableTheory]
    [InlineData("gpt2_encoded_tokens.json", Gpt2)]
    [InlineData("llama_encoded.json", Llama2)]
    [InlineData("falcon_encoded.json", Falcon)]
    [InlineData("llama_3.2_encoded.json", Llama3Tiktoken)]
    public void Swift_encoded_paragraph(string expectedFile, string tokenizerFile)
    {
        var e = Json($"swift-transformers/encoded/{expectedFile}");
        var tok = Load(tokenizerFile);
        var enc = tok.Encode(e.GetProperty("text").GetString()!);
        Assert.Equal(Ints(e.GetProperty("token_ids")), enc.Ids);
        var pieces = e.GetProperty("bpe_tokens").EnumerateArray().Select(x => x.GetString()).ToArray();
        Assert.Equal(pieces, enc.Tokens.Where((_, i) => enc.SpecialTokensMask[i] == 0));
        if (e.TryGetProperty("decoded_text", out var decoded))
            Assert.Equal(decoded.GetString(), tok.Decode(enc.Ids, skipSpecialTokens: false));
    }

    [SkippableTheory]
    [InlineData("distilgpt2", Gpt2, true)]
    [InlineData("coreml-projects/Llama-2-7b-chat-coreml", Llama2, false)]
    [InlineData("tiiuae/falcon-7b", Falcon, true)]
    [InlineData("pcuenq/Llama-3.2-1B-Instruct-tokenizer", Llama3Tiktoken, true)]
    public void Swift_tokenizer_tests(string model, string tokenizerFile, bool cleanUp)
    {
        var cases = Json("swift-transformers/tokenizer_tests.json").GetProperty(model);
        var tok = Load(tokenizerFile);
        int n = 0;
        foreach (var c in cases.EnumerateArray())
        {
            var enc = tok.Encode(c.GetProperty("input").GetString()!);
            var expected = c.GetProperty("encoded");
            Assert.Equal(Ints(expected.GetProperty("input_ids")), enc.Ids);
            Assert.Equal(Ints(expected.GetProperty("attention_mask")), enc.AttentionMask);
            // Python transformers' decode: clean_up_tokenization_spaces is on for GPT-2, Falcon and Llama-3, off for Llama-2.
            Assert.Equal(c.GetProperty("decoded_with_special").GetString(), tok.Decode(enc.Ids, skipSpecialTokens: false, cleanUpTokenizationSpaces: cleanUp));
            Assert.Equal(c.GetProperty("decoded_without_special").GetString(), tok.Decode(enc.Ids, cleanUpTokenizationSpaces: cleanUp));
            n++;
        }
        output.WriteLine($"{model}: {n}/{n}");
        Assert.True(n >= 18);
    }

    [SkippableTheory]
    [InlineData("gpt2_multilingual.json", Gpt2)]
    [InlineData("roberta_base_multilingual.json", Roberta)]
    [InlineData("tinyllama_multilingual.json", Llama2)]
    public void Multilingual_baselines(string baseline, string tokenizerFile)
    {
        var inputs = Json("swift-transformers/multilingual-conformance/inputs.json").EnumerateArray()
            .ToDictionary(x => x.GetProperty("id").GetString()!, x => x.GetProperty("text").GetString()!);
        var tok = Load(tokenizerFile);
        int n = 0, bad = 0;
        var report = new System.Text.StringBuilder();
        foreach (var e in Json($"swift-transformers/multilingual-conformance/baselines/{baseline}").GetProperty("entries").EnumerateArray())
        {
            string text = inputs[e.GetProperty("id").GetString()!];
            var enc = tok.Encode(text);
            n++;
            bool ok = Ints(e.GetProperty("input_ids")).SequenceEqual(enc.Ids)
                && e.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()).SequenceEqual(enc.Tokens)
                && e.GetProperty("decoded_with_special").GetString() == tok.Decode(enc.Ids, skipSpecialTokens: false)
                && e.GetProperty("decoded_skip_special").GetString() == tok.Decode(enc.Ids);
            if (!ok && bad++ < 5) report.AppendLine($"{e.GetProperty("id")}: {OracleParityTests.Escape(text)}");
        }
        output.WriteLine($"{baseline}: {n - bad}/{n}");
        Assert.True(n == 83 && bad == 0, $"{bad}/{n} differ\n{report}");
    }
}
