using System.CommandLine;
using Vivace.Cpu;
using Vivace.Tensors;

namespace Vivace.Cli;

/// <summary>
/// <c>--quantize</c> (on <c>serve</c>, <c>embed</c>, <c>generate</c>): how linear layers are stored and computed. The weights
/// on disk are not touched: a layer is quantized as it loads (a GGUF model's block-quantized layers stay as they are).
/// <c>--dtype bf16</c> stores linear weights in bf16 (f32 activations and accumulation); bf16 checkpoints keep their
/// bf16 weights either way (widening them is exact).
/// </summary>
public static class PrecisionOption
{
    /// <summary>The values <c>--quantize</c> takes, with what each does.</summary>
    public static readonly IReadOnlyDictionary<string, (LinearPrecision Precision, string Description)> Choices =
        new Dictionary<string, (LinearPrecision, string)>(StringComparer.OrdinalIgnoreCase)
        {
            ["none"] = (LinearPrecision.F32, "f32 weights (default)"),
            ["int8"] = (LinearPrecision.Int8, "int8 weights and activations, a scale per channel (row) and 128 k (VNNI); Q8_0 blocks without VNNI"),
            ["q8_0"] = (LinearPrecision.Q8_0, "ggml Q8_0 blocks, 8.5 bits a weight"),
            ["q4_0"] = (LinearPrecision.Q4_0, "ggml Q4_0 blocks, 4.5 bits a weight"),
        };

    public static Option<string> CreateQuantize() => new("--quantize")
    {
        Description = "quantize linear layers as the model loads: " + string.Join(", ", Choices.Select(c => $"{c.Key} ({c.Value.Description})")),
        DefaultValueFactory = _ => "none",
    };

    public static Option<string> CreateDtype() => new("--dtype")
    {
        Description = "weight dtype of linear layers: f32 (default) or bf16 (half the bytes, f32 arithmetic)",
        DefaultValueFactory = _ => "f32",
    };

    /// <summary>The ops a command loads its model with: every core, linear layers as <paramref name="quantize"/> says.</summary>
    public static ITensorOps Ops(string? quantize, string? dtype)
    {
        dtype ??= "f32";
        bool bf16 = dtype.Equals("bf16", StringComparison.OrdinalIgnoreCase);
        if (!bf16 && !dtype.Equals("f32", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--dtype {dtype} is not supported on the CPU backend; use f32 or bf16 (or --quantize for smaller weights)");
        quantize ??= "none";
        if (!Choices.TryGetValue(quantize, out var choice))
            throw new ArgumentException($"--quantize {quantize} is not one of {string.Join(", ", Choices.Keys)}");
        if (bf16 && choice.Precision != LinearPrecision.F32)
            throw new ArgumentException($"--dtype bf16 and --quantize {quantize} both choose how linear layers are stored; give one");
        LinearPrecision precision = bf16 ? LinearPrecision.BF16 : choice.Precision;
        return precision == LinearPrecision.F32 ? CpuOps.Default : new CpuOps { LinearPrecision = precision };
    }
}
