namespace Vivace.Cpu;

/// <summary>How <see cref="CpuOps.PrepareLinear"/> stores linear layers.</summary>
public enum LinearPrecision
{
    F32,
    /// <summary>Per-channel int8 weights, activations quantized per row at run time (VNNI where the CPU has it).</summary>
    Int8,
}
