using Vivace.Cpu;
using Vivace.Formats;
using Vivace.Models;

namespace Vivace.Bench;

/// <summary>
/// The all-MiniLM-L6-v2 shape (BERT, 6 layers, hidden 384, 12 heads, FFN 1536) with random weights, in f32, int8 and
/// bf16 through Vivace only, at the embed benchmark's batch shapes, the precisions interleaved call by call: median ms
/// and each precision's end-to-end speedup over f32. Needs no model files or ONNX Runtime, so it runs where those cannot
/// be carried (the lent GPU host's AVX-512 CPU, whose VNNI and AVX512-BF16 the dev VM may lack); with Vivace's fp32 at
/// about ONNX Runtime's (the embed benchmark's X), these ratios estimate the embed benchmark's Y and Z there.
/// </summary>
public static class EncoderPrecisionBenchmark
{
    public static int Run(string[] args)
    {
        int threads = EmbedBenchmark.IntArg(args, "--threads") ?? 2;
        double seconds = args.Contains("--quick") ? 3 : 12;
        var config = HfConfig.FromValues(new Dictionary<string, object?>
        {
            ["model_type"] = "bert", ["hidden_size"] = 384L, ["num_hidden_layers"] = 6L, ["num_attention_heads"] = 12L,
            ["intermediate_size"] = 1536L, ["vocab_size"] = 30522L, ["max_position_embeddings"] = 512L, ["type_vocab_size"] = 2L,
            ["hidden_act"] = "gelu", ["layer_norm_eps"] = 1e-12,
        }, "MiniLM-shaped config");
        using var weights = new RandomBertWeights(6, 384, 1536, 30522, 512, seed: 1);
        CpuOps[] ops = [new(threads), new(threads) { LinearPrecision = LinearPrecision.Int8 }, new(threads) { LinearPrecision = LinearPrecision.BF16 }];
        IEncoderModel[] models = [.. ops.Select(o => EncoderModelLoader.Create(config, weights, o))];
        Console.WriteLine($"MiniLM-shaped BERT, random weights, {threads} threads, {Environment.ProcessorCount} cores, kernels {ops[0].Path}; " +
            GemmPrecisionBenchmark.Paths(ops[1], ops[2]));
        Console.WriteLine("| batch×seq | f32 ms | int8 ms | bf16 ms | int8 speedup | bf16 speedup |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        double int8Log = 0, bf16Log = 0;
        (int Batch, int Seq)[] shapes = [(1, 16), (1, 128), (8, 128), (32, 128)];
        foreach ((int batch, int seq) in shapes)
        {
            var input = EncoderBatch.FromSequences(EmbedBenchmark.TokenIds(batch, seq, 30522));
            double[] ms = [.. InterleavedTiming.MedianSeconds(
                [.. models.Select(model => (Action)(() => model.Forward(input, withPooler: false)))], 5, TimeSpan.FromSeconds(seconds), 1000)
                .Select(t => t * 1000)];
            int8Log += Math.Log(ms[0] / ms[1]);
            bf16Log += Math.Log(ms[0] / ms[2]);
            Console.WriteLine($"| {batch}×{seq} | {ms[0]:F3} | {ms[1]:F3} | {ms[2]:F3} | {ms[0] / ms[1]:F2} | {ms[0] / ms[2]:F2} |");
        }
        Console.WriteLine($"int8 encoder geomean speedup vs f32: {Math.Exp(int8Log / shapes.Length):F2}");
        Console.WriteLine($"bf16 encoder geomean speedup vs f32: {Math.Exp(bf16Log / shapes.Length):F2}");
        foreach (CpuOps o in ops) o.Dispose();
        return 0;
    }
}
