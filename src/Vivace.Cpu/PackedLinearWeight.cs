using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>A linear layer's weight held by <see cref="CpuOps"/>.</summary>
internal sealed class PackedLinearWeight : ILinearWeight
{
    public PackedLinearWeight(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, float[]? bias, string? name)
    {
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        Weight = weight.ToArray();
        Bias = bias;
        Name = name;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public string? Name { get; }
    /// <summary>[out, in] row-major.</summary>
    public float[] Weight { get; }
    public float[]? Bias { get; }
}
