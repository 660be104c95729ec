namespace Vivace.Cpu;

/// <summary>How <see cref="CpuOps.PrepareLinear"/> stores linear layers.</summary>
public enum LinearPrecision
{
    F32,
    /// <summary>int8 weights (a scale per output channel and 128 k), activations quantized per row and group at run time
    /// (VNNI where the CPU has it; Q8_0 blocks elsewhere).</summary>
    Int8,
    /// <summary>
    /// ggml Q8_0 blocks (the reference quantizer, as <c>--quantize q8_0</c> writes them), activations quantized to Q8_0
    /// per row at run time. Every linear layer whose input width is a multiple of 32; others stay f32.
    /// </summary>
    Q8_0,
    /// <summary>ggml Q4_0 blocks, otherwise as <see cref="Q8_0"/>.</summary>
    Q4_0,
    /// <summary>
    /// bf16 weights (f32 ones rounded to nearest even; bf16 checkpoints kept as they are), f32 activations and
    /// accumulation: half the bytes of f32 to stream, the same arithmetic on the widened values.
    /// </summary>
    BF16,
}
