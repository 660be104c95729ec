using Vivace.Tensors;

namespace Vivace.Cpu;

public sealed partial class CpuOps
{
    /// <summary>Block-quantized weights (see <see cref="ITensorOps.PrepareLinear(QuantizedMatrix, Tensor?)"/>).</summary>
    public ILinearWeight PrepareLinear(QuantizedMatrix weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return PrepareLinear(weight.Dequantize(), bias);
    }
}
