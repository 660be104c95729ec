namespace Vivace.Tensors;

/// <summary>Element types a tensor may hold. Compute is f32; f16 and bf16 are storage types converted on load.</summary>
public enum DType
{
    F32,
    F16,
    BF16,
    I64,
    I32,
    I8,
    U8,
}

public static class DTypeExtensions
{
    /// <summary>Bytes one element occupies.</summary>
    public static int Size(this DType dtype) => dtype switch
    {
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 => 2,
        DType.I64 => 8,
        DType.I8 or DType.U8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>The CLR element type that stores this dtype (bf16 is stored as its raw 16 bits).</summary>
    public static Type ClrType(this DType dtype) => dtype switch
    {
        DType.F32 => typeof(float),
        DType.F16 => typeof(Half),
        DType.BF16 => typeof(ushort),
        DType.I64 => typeof(long),
        DType.I32 => typeof(int),
        DType.I8 => typeof(sbyte),
        DType.U8 => typeof(byte),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };
}
