using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>
/// RMSNorm's weights, as transformers' LlamaRMSNorm: <c>y = x / sqrt(mean(x²) + eps) · weight</c> per row, in f32.
/// The backend's <see cref="ITensorOps.RmsNorm"/> computes it, fused with the residual add before it.
/// </summary>
public sealed class RmsNorm(Tensor weight, float epsilon)
{
    public Tensor Weight { get; } = weight;
    public float Epsilon { get; } = epsilon;

    /// <summary>
    /// <paramref name="output"/> = RMSNorm(<paramref name="input"/> + <paramref name="residual"/>) over rows of
    /// <c>[rows, dim]</c>; <paramref name="sum"/>, when given, also receives the sum (see <see cref="ITensorOps.RmsNorm"/>).
    /// </summary>
    public void Forward(ITensorOps ops, Tensor input, Tensor? residual, Tensor output, Tensor? sum = null) =>
        ops.RmsNorm(input, residual, Weight, Epsilon, output, sum);
}
