using System.Text;
using System.Text.Json;
using LLama;
using LLama.Common;
using Vivace.Cpu;
using Vivace.Engine;
using Vivace.Engine.Generation;
using Vivace.Formats.Gguf;
using Vivace.Tokenizers;

namespace Vivace.Bench;

/// <summary>
/// GGUF files written by Vivace, read by llama.cpp (LLamaSharp's CPU backend): byte-level BPE vocabularies (GPT-2,
/// Llama 3, cl100k, Falcon, Phi-2, RoBERTa) tokenize llama.cpp's own test inputs to the ids Vivace's tokenizer gives, and
/// Llama- (also with Llama 3.1's RoPE scaling), Qwen2- and GPT-2-architecture models (the golden checkpoints with a byte-level tokenizer.json) continue a prompt with
/// the same greedy ids in llama.cpp as in Vivace. Correctness across the two engines, not speed: no timings.
/// </summary>
internal static class GgufParityBenchmark
{
    public static int Run(string[] args)
    {
        string shared = TokenizersBenchmark.SharedDataPath();
        LlamaCppRival.Quiet();
        string dir = Directory.CreateTempSubdirectory("vivace-gguf-parity-").FullName;
        var report = new StringBuilder();
        void Line(string s) { Console.WriteLine(s); report.AppendLine(s); }
        int failures = 0;
        try
        {
            Line($"GGUF parity with llama.cpp, {EmbedBenchmark.Machine()}, {DateTime.UtcNow:yyyy-MM-dd}");
            Line("");
            string[] texts = File.ReadAllText(Path.Combine(shared, "data/llama.cpp/vocab-tests/ggml-vocab.inp")).Split("\n__ggml_vocab_test__\n");
            Line($"vocabularies exported by Vivace, tokenized by llama.cpp (LLamaSharp 0.30.0 CPU backend) — llama.cpp's {texts.Length} test inputs (ggml-vocab.inp), no special tokens:");
            Line("");
            Line("| vocabulary | tokenizer.ggml.pre | inputs with equal ids |");
            Line("|---|---|---:|");
            foreach (var (name, tokenizer) in Vocabularies(shared))
            {
                string path = Path.Combine(dir, name + "-vocab.gguf");
                IReadOnlyDictionary<string, object> keys = tokenizer.ToGgufMetadata();
                WriteVocabOnly(path, keys, tokenizer.VocabSize);
                using var weights = LLamaWeights.LoadFromFile(new ModelParams(path) { VocabOnly = true, GpuLayerCount = 0 });
                int equal = 0;
                foreach (string text in texts)
                {
                    int[] theirs = weights.Tokenize(text, false, false, System.Text.Encoding.UTF8).Select(t => (int)t).ToArray();
                    if (theirs.AsSpan().SequenceEqual(tokenizer.EncodeToIds(text, addSpecialTokens: false))) equal++;
                }
                if (equal != texts.Length) failures++;
                Line($"| {name} | {keys["tokenizer.ggml.pre"]} | {equal} of {texts.Length} |");
            }

            const int steps = 16;
            var logits = new Dictionary<string, float[]>();
            double worstDiff = 0;
            const string prompt = "Hello world, this is a test of the GGUF files";
            Line("");
            Line($"models exported by Vivace (F32, tiny-random-gpt2's byte-level tokenizer.json beside the golden checkpoint), greedy {steps} steps from the same prompt ids (EOS not stopping), Vivace loading the GGUF file:");
            Line("");
            Line($"| model | architecture | prompt ids equal | max logit difference after the prompt, relative to the largest logit (≤ {LogitTolerance:E0}) | greedy ids equal |");
            Line("|---|---|---|---:|---:|");
            // llama-small also with Llama 3.1's RoPE scaling (original context 64: head_dim 8 keeps one frequency, blends
            // one and divides two), which travels as rope_freqs.weight.
            foreach (string model in new[] { "llama-small", "llama-small+llama3-rope", "qwen2-small", "gpt2-small" })
            {
                string modelDir = Path.Combine(dir, model);
                Directory.CreateDirectory(modelDir);
                string golden = Path.Combine(shared, "goldens", model.Split('+')[0]);
                foreach (string file in new[] { "config.json", "generation_config.json", "model.safetensors" })
                    File.CreateSymbolicLink(Path.Combine(modelDir, file), Path.Combine(golden, file));
                if (model.EndsWith("+llama3-rope", StringComparison.Ordinal))
                {
                    var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(golden, "config.json")))!.AsObject();
                    config["rope_parameters"] = new System.Text.Json.Nodes.JsonObject
                    {
                        ["rope_type"] = "llama3", ["rope_theta"] = 10000.0, ["factor"] = 8.0, ["low_freq_factor"] = 1.0,
                        ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 64,
                    };
                    File.Delete(Path.Combine(modelDir, "config.json"));
                    File.WriteAllText(Path.Combine(modelDir, "config.json"), config.ToJsonString());
                }
                File.CreateSymbolicLink(Path.Combine(modelDir, "tokenizer.json"), Path.Combine(shared, "data/ort-genai/tiny-random-gpt2/tokenizer.json"));
                string gguf = Path.Combine(dir, model + ".gguf");
                ModelQuantizer.Quantize(modelDir, gguf, GgufTarget.F32);
                string architecture;
                using (GgufFile file = GgufFile.Open(gguf)) architecture = file.GetString("general.architecture")!;

                // The prompt as each side tokenizes it; then greedy steps from the same ids, EOS or not.
                int[] promptIds = TextGenerator.Load(gguf, CpuOps.Default).Tokenizer.EncodeToIds(prompt);
                using var ops = new CpuOps(2);
                var vivaceModel = Vivace.Models.Decoders.GgufLoader.Load(gguf, ops);
                float[] ourLogits = PromptLogits(vivaceModel, promptIds);
                int[] ourIds = LlamaCppComparison.DecodeVivace(vivaceModel, promptIds, steps).Ids;
                using var rival = new LlamaCppRival(gguf, threads: 2, contextSize: 128);
                int[] theirPrompt = rival.Tokenize(prompt);
                float[] theirLogits = rival.Prefill(promptIds);
                double logitDiff = MaxDifference(ourLogits, theirLogits) / Math.Max(1e-30, ourLogits.Max(Math.Abs));
                worstDiff = Math.Max(worstDiff, logitDiff);
                logits[model] = ourLogits;
                int[] theirIds = LlamaCppComparison.DecodeLlamaCpp(rival, promptIds, steps).Ids;
                int equal = 0;
                while (equal < steps && ourIds[equal] == theirIds[equal]) equal++;
                bool promptEqual = theirPrompt.AsSpan().SequenceEqual(promptIds);
                if (!promptEqual || equal != steps || logitDiff > LogitTolerance) failures++;
                Line($"| {model} | {architecture} | {(promptEqual ? "yes" : "no")} ({promptIds.Length} ids) | {logitDiff:E1} | {equal} of {steps} |");
            }
            // The scaled rope must move the logits well past the engines' disagreement, or the llama3 row would not show that
            // llama.cpp applies rope_freqs.weight.
            float[] plain = logits["llama-small"];
            double ropeEffect = MaxDifference(plain, logits["llama-small+llama3-rope"]) / Math.Max(1e-30, plain.Max(Math.Abs));
            Line("");
            Line($"llama3 RoPE scaling moves the prompt's logits by {ropeEffect:E1} relative: {ropeEffect / worstDiff:F0}× the largest engine difference above (at least 5× required)");
            if (ropeEffect < 5 * worstDiff) failures++;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Line("");
        Line($"gguf parity with llama.cpp: {(failures == 0 ? "all equal" : $"{failures} rows differ")}");
        if (args.Contains("--out")) File.WriteAllText(args[Array.IndexOf(args, "--out") + 1], report.ToString());
        return failures == 0 ? 0 : 1;
    }

    /// <summary>Two f32 engines summing in different orders (llama.cpp's GELU and softmax run their own approximations):
    /// agreement to 1e-3 of the largest logit.</summary>
    private const double LogitTolerance = 1e-3;

    private static float[] PromptLogits(Vivace.Models.Decoders.ICausalLM model, int[] prompt)
    {
        var session = new Vivace.Models.Decoders.DecodeSession(model, 1, prompt.Length + 1);
        long[] ids = [.. prompt.Select(x => (long)x)];
        long[] mask = [.. ids.Select(_ => 1L)];
        return session.Prefill(ids.Length, ids, mask).AsSpan().ToArray();
    }

    private static double MaxDifference(float[] a, float[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    private static IEnumerable<(string Name, Tokenizer Tokenizer)> Vocabularies(string shared)
    {
        string data = Path.Combine(shared, "data");
        yield return ("gpt-2", Tokenizer.FromFile(Path.Combine(data, "swift-transformers/tokenizers/gpt2_tokenizer.json")));
        yield return ("llama-3", Tokenizer.FromTiktoken(Path.Combine(data, "daulet-tokenizers/meta-llama-3-8b-instruct/tiktoken.model"),
            Tokenizer.Cl100kPattern, Llama3Specials(data), "<|begin_of_text|>"));
        yield return ("cl100k", Tokenizer.FromTiktoken(Path.Combine(data, "dotnet-machinelearning/cl100k_base.tiktoken"), Tokenizer.Cl100kPattern,
            new Dictionary<string, int> { ["<|endoftext|>"] = 100257 }));
        yield return ("falcon", Tokenizer.FromFile(Path.Combine(data, "ort-extensions/falcon/tokenizer.json")));
        yield return ("phi-2", Tokenizer.FromFile(Path.Combine(data, "ort-extensions/phi-2/tokenizer.json")));
        yield return ("roberta", Tokenizer.FromFile(Path.Combine(data, "ort-extensions/roberta-base/tokenizer.json")));
    }

    private static Dictionary<string, int> Llama3Specials(string data)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(data, "daulet-tokenizers/meta-llama-3-8b-instruct/tokenizer_config.json")));
        var result = new Dictionary<string, int>();
        foreach (var p in doc.RootElement.GetProperty("added_tokens_decoder").EnumerateObject())
            result[p.Value.GetProperty("content").GetString()!] = int.Parse(p.Name);
        return result;
    }

    /// <summary>A tensor-less GGUF: a tiny llama's hyperparameters (llama.cpp reads them even for a vocabulary) and the tokenizer keys.</summary>
    private static void WriteVocabOnly(string path, IReadOnlyDictionary<string, object> tokenizer, int vocab)
    {
        var writer = new GgufWriter();
        writer.AddMetadata("general.architecture", "llama");
        writer.AddMetadata("general.name", "vocab");
        writer.AddMetadata("llama.context_length", 128u);
        writer.AddMetadata("llama.embedding_length", 32u);
        writer.AddMetadata("llama.block_count", 1u);
        writer.AddMetadata("llama.feed_forward_length", 64u);
        writer.AddMetadata("llama.rope.dimension_count", 8u);
        writer.AddMetadata("llama.attention.head_count", 4u);
        writer.AddMetadata("llama.attention.head_count_kv", 4u);
        writer.AddMetadata("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        writer.AddMetadata("llama.vocab_size", (uint)vocab);
        foreach (var (key, value) in tokenizer) writer.AddMetadata(key, value);
        writer.Write(path);
    }
}
