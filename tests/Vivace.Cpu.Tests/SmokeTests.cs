using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

public class TensorTests
{
    [Fact]
    public void ReshapeAndSliceShareStorage()
    {
        var t = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        var row = t.Slice(1, 1);
        Assert.Equal(new Shape(1, 2), row.Shape);
        row.AsSpan()[0] = 30;
        Assert.Equal(30, t.AsSpan()[2]);
        Assert.Equal(new Shape(2, 3), t.Reshape(-1, 3).Shape);
        Assert.Throws<ArgumentException>(() => t.Reshape(4, 2));
    }

    [Fact]
    public void Bf16RoundTripsAndRoundsToNearestEven()
    {
        Assert.Equal(1.0f, BitConverter.Int32BitsToSingle(NumericConversions.SingleToBFloat16(1.0f) << 16));
        // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to the even one (1.0).
        Assert.Equal(1.0f, BitConverter.Int32BitsToSingle(NumericConversions.SingleToBFloat16(1.00390625f) << 16));
    }
}
