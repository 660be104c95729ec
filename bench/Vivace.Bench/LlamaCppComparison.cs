using System.Diagnostics;
using System.Text;
using Vivace.Cpu;
using Vivace.Formats;
using Vivace.Formats.Gguf;
using Vivace.Models.Decoders;

namespace Vivace.Bench;

/// <summary>
/// The generate benchmark's rival rows: the random Llama written once per format (F32, Q8_0, Q4_0) by Vivace's GGUF
/// writer, then that same file decoded greedily at batch 1 by Vivace and by llama.cpp (LLamaSharp's CPU backend), same
/// prompt, same thread count, the two sides interleaved round by round. Prints decode tokens/s, the ratio, and how
/// many of the greedy ids agree (the goal: all of the first 32 at F32).
/// </summary>
internal static class LlamaCppComparison
{
    private static readonly GgufTarget[] Formats = [GgufTarget.F32, GgufTarget.BF16, GgufTarget.Q8_0, GgufTarget.Q4_0];

    public static void Run(IWeightSource weights, DecoderConfig shape, int threads, bool quick, StringBuilder report, List<string> summary)
    {
        int promptTokens = 32, steps = quick ? 8 : 32, rounds = quick ? 1 : 3;
        string dir = Directory.CreateTempSubdirectory("vivace-bench-gguf-").FullName;
        var config = new LlamaGgufConfig(shape.HiddenSize, shape.IntermediateSize, shape.Layers, shape.Heads, shape.KeyValueHeads, shape.HeadDim,
            shape.RmsNormEps, shape.RopeTheta, shape.MaxPositions, shape.VocabSize, shape.TieWordEmbeddings);
        var header = new StringBuilder();
        header.AppendLine();
        header.AppendLine($"vs llama.cpp (LLamaSharp {LlamaSharpVersion()} CPU backend), the same GGUF written by Vivace, batch 1, {threads} threads, " +
                          $"{promptTokens}-token prompt, {steps} greedy steps × {rounds} rounds (median step), sides interleaved:");
        header.AppendLine();
        header.AppendLine("| format | file MB | Vivace decode tok/s | llama.cpp decode tok/s | Vivace / llama.cpp | greedy ids equal |");
        header.AppendLine("|---|---:|---:|---:|---:|---:|");
        Console.Write(header);
        report.Append(header);
        try
        {
            foreach (GgufTarget target in Formats)
            {
                string path = Path.Combine(dir, $"random-llama-{target}.gguf");
                GgufExport.Write(path, weights, config, target, SyntheticVocabulary(shape.VocabSize), "vivace-bench-random-llama");
                using var ops = new CpuOps(threads);
                ICausalLM model = GgufLoader.Load(path, ops);
                using var rival = new LlamaCppRival(path, threads, promptTokens + steps + 8);
                int[] prompt = Prompt(promptTokens, shape.VocabSize);
                var ours = new List<double>();
                var theirs = new List<double>();
                int[] ourIds = [], theirIds = [];
                for (int round = -1; round < rounds; round++) // round −1 warms both up, unrecorded
                {
                    (int[] a, List<double> aMs) = DecodeVivace(model, prompt, steps);
                    (int[] b, List<double> bMs) = DecodeLlamaCpp(rival, prompt, steps);
                    if (round < 0) continue;
                    ours.AddRange(aMs);
                    theirs.AddRange(bMs);
                    (ourIds, theirIds) = (a, b);
                }
                double vivace = 1e3 / Median(ours), llamaCpp = 1e3 / Median(theirs);
                int equal = 0;
                while (equal < steps && ourIds[equal] == theirIds[equal]) equal++;
                string row = $"| {target} | {new FileInfo(path).Length / 1e6:F0} | {vivace:F1} | {llamaCpp:F1} | {vivace / llamaCpp:F2} | {equal} of {steps} |";
                Console.WriteLine(row);
                report.AppendLine(row);
                summary.Add($"decode speedup vs llama.cpp ({target.ToString().ToLowerInvariant()}): {vivace / llamaCpp:F2}");
                if (target == GgufTarget.F32) summary.Add($"greedy ids equal to llama.cpp at f32: {equal} of {steps}");
                File.Delete(path);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Greedy decoding through the KV cache; returns the new ids and each step's milliseconds.</summary>
    internal static (int[] Ids, List<double> StepMs) DecodeVivace(ICausalLM model, int[] prompt, int steps)
    {
        var session = new DecodeSession(model, 1, prompt.Length + steps + 1);
        long[] ids = prompt.Select(x => (long)x).ToArray();
        var mask = new long[ids.Length];
        Array.Fill(mask, 1L);
        var logits = session.Prefill(ids.Length, ids, mask);
        var produced = new int[steps];
        var ms = new List<double>(steps);
        for (int s = 0; s < steps; s++)
        {
            produced[s] = (int)BatchGenerator.ArgMax(logits.AsSpan());
            long start = Stopwatch.GetTimestamp();
            logits = session.Step([produced[s]]);
            ms.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return (produced, ms);
    }

    internal static (int[] Ids, List<double> StepMs) DecodeLlamaCpp(LlamaCppRival rival, int[] prompt, int steps)
    {
        float[] logits = rival.Prefill(prompt);
        var produced = new int[steps];
        var ms = new List<double>(steps);
        for (int s = 0; s < steps; s++)
        {
            produced[s] = (int)BatchGenerator.ArgMax(logits);
            long start = Stopwatch.GetTimestamp();
            logits = rival.Step(produced[s]);
            ms.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return (produced, ms);
    }

    /// <summary>Random ordinary pieces (past the 3 specials and 256 byte pieces of the synthetic vocabulary).</summary>
    private static int[] Prompt(int tokens, int vocab)
    {
        var random = new Random(7);
        return Enumerable.Range(0, tokens).Select(_ => random.Next(3 + 256, vocab)).ToArray();
    }

    /// <summary>
    /// A llama-style vocabulary of the model's size for the GGUF (llama.cpp will not load a model without one):
    /// &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte pieces, then made-up pieces. The benchmark feeds ids, never text.
    /// </summary>
    private static Dictionary<string, object> SyntheticVocabulary(int size)
    {
        var tokens = new string[size];
        var scores = new float[size];
        var types = new int[size];
        tokens[0] = "<unk>"; types[0] = 2;
        tokens[1] = "<s>"; types[1] = 3;
        tokens[2] = "</s>"; types[2] = 3;
        for (int b = 0; b < 256; b++) { tokens[3 + b] = $"<0x{b:X2}>"; types[3 + b] = 6; }
        for (int i = 3 + 256; i < size; i++) { tokens[i] = $"\u2581p{i}"; types[i] = 1; scores[i] = -i; }
        return new Dictionary<string, object>
        {
            ["tokenizer.ggml.model"] = "llama",
            ["tokenizer.ggml.tokens"] = tokens,
            ["tokenizer.ggml.scores"] = scores,
            ["tokenizer.ggml.token_type"] = types,
            ["tokenizer.ggml.unknown_token_id"] = 0u,
            ["tokenizer.ggml.bos_token_id"] = 1u,
            ["tokenizer.ggml.eos_token_id"] = 2u,
        };
    }

    /// <summary>The package version Vivace.Bench.csproj pins (the LLamaSharp assembly carries none).</summary>
    private static string LlamaSharpVersion() => "0.30.0";

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
