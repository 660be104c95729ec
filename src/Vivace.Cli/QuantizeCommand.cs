using System.CommandLine;
using Vivace.Engine;
using Vivace.Formats.Gguf;

namespace Vivace.Cli;

/// <summary><c>vivace quantize --model PATH --to q8_0 --out FILE.gguf</c>: a quantized copy of a decoder (Llama, Mistral, Qwen2, GPT-2) as GGUF.</summary>
public static class QuantizeCommand
{
    private static readonly Dictionary<string, GgufTarget> Targets = new(StringComparer.OrdinalIgnoreCase)
    {
        ["f32"] = GgufTarget.F32,
        ["f16"] = GgufTarget.F16,
        ["bf16"] = GgufTarget.BF16,
        ["q8_0"] = GgufTarget.Q8_0,
        ["q4_0"] = GgufTarget.Q4_0,
    };

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "decoder: HF directory (model_type llama, mistral, qwen2 or gpt2), llama2.c checkpoint, or GGUF file", Required = true };
        var to = new Option<string>("--to") { Description = "weight type of the matrices: " + string.Join(", ", Targets.Keys), DefaultValueFactory = _ => "q8_0" };
        var output = new Option<string>("--out") { Description = "the GGUF file to write", Required = true };
        var command = new Command("quantize", "write a (quantized) copy of a decoder (Llama, Mistral, Qwen2, GPT-2) as a GGUF file that Vivace and llama.cpp load") { model, to, output };
        command.SetAction(result => CliApp.Guard(() => Run(result.GetValue(model)!, result.GetValue(to)!, result.GetValue(output)!, Console.Out)));
        return command;
    }

    public static int Run(string model, string to, string output, TextWriter log)
    {
        if (!Targets.TryGetValue(to, out GgufTarget target))
            throw new ArgumentException($"--to {to} is not one of {string.Join(", ", Targets.Keys)}");
        GgufExportSummary summary = ModelQuantizer.Quantize(model, output, target);
        long bytes = new FileInfo(summary.Path).Length;
        log.WriteLine($"wrote {summary.Path}: {summary.Tensors.Count} tensors, {bytes / 1e6:F1} MB, matrices {summary.Target}");
        foreach (string note in summary.Notes) log.WriteLine("  " + note);
        return 0;
    }
}
