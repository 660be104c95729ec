using Vivace.Cpu.Quantized;
using Vivace.Tensors;

namespace Vivace.Cpu;

public sealed partial class CpuOps
{
    /// <summary>
    /// Block-quantized weights (see <see cref="ITensorOps.PrepareLinear(QuantizedMatrix, Tensor?)"/>): kept as blocks
    /// (repacked, see <see cref="BlockLinearWeight"/>); <see cref="Linear"/> quantizes the activations to Q8_0 and
    /// runs integer dot products (<see cref="BlockGemm"/>).
    /// </summary>
    public ILinearWeight PrepareLinear(QuantizedMatrix weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Rows))
            throw new ArgumentException($"bias {bias.Name ?? ""} must be [{weight.Rows}] for weight {weight.Name ?? ""} {weight.Format} [{weight.Rows}, {weight.Columns}], got {bias.Shape}", nameof(bias));
        return new BlockLinearWeight(weight, bias is null ? default : bias.ToF32().AsSpan());
    }

    /// <summary>The block format <see cref="LinearPrecision"/> asks for, null for f32 / int8.</summary>
    private BlockFormat? BlockPrecision => LinearPrecision switch
    {
        LinearPrecision.Q8_0 => BlockFormat.Q8_0,
        LinearPrecision.Q4_0 => BlockFormat.Q4_0,
        _ => null,
    };
}
