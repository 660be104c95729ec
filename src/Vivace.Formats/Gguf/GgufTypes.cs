namespace Vivace.Formats.Gguf;

/// <summary>The type tag of a GGUF metadata value (gguf_type in ggml's gguf.h).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>
/// A ggml tensor type id as GGUF tensor infos store it. Every id ggml defines today is named here so a file holding
/// k-quants or i-quants can still be opened and listed; only <see cref="GgmlTypes.IsReadable"/> ones can be read.
/// </summary>
public enum GgmlType : uint
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
}

/// <summary>Block geometry of the ggml types (ggml.c's type_traits: values a block, bytes a block).</summary>
public static class GgmlTypes
{
    private static readonly Dictionary<GgmlType, (int BlockSize, int TypeSize)> Traits = new()
    {
        [GgmlType.F32] = (1, 4), [GgmlType.F16] = (1, 2), [GgmlType.BF16] = (1, 2), [GgmlType.F64] = (1, 8),
        [GgmlType.I8] = (1, 1), [GgmlType.I16] = (1, 2), [GgmlType.I32] = (1, 4), [GgmlType.I64] = (1, 8),
        [GgmlType.Q4_0] = (32, 18), [GgmlType.Q4_1] = (32, 20), [GgmlType.Q5_0] = (32, 22), [GgmlType.Q5_1] = (32, 24),
        [GgmlType.Q8_0] = (32, 34), [GgmlType.Q8_1] = (32, 36), [GgmlType.IQ4_NL] = (32, 18), [GgmlType.MXFP4] = (32, 17),
        [GgmlType.Q2_K] = (256, 84), [GgmlType.Q3_K] = (256, 110), [GgmlType.Q4_K] = (256, 144), [GgmlType.Q5_K] = (256, 176),
        [GgmlType.Q6_K] = (256, 210), [GgmlType.Q8_K] = (256, 292), [GgmlType.IQ2_XXS] = (256, 66), [GgmlType.IQ2_XS] = (256, 74),
        [GgmlType.IQ3_XXS] = (256, 98), [GgmlType.IQ1_S] = (256, 50), [GgmlType.IQ3_S] = (256, 110), [GgmlType.IQ2_S] = (256, 82),
        [GgmlType.IQ4_XS] = (256, 136), [GgmlType.IQ1_M] = (256, 56), [GgmlType.TQ1_0] = (256, 54), [GgmlType.TQ2_0] = (256, 66),
    };

    /// <summary>Whether ggml defines this id (so its byte size, hence the file layout, can be checked).</summary>
    public static bool IsKnown(GgmlType type) => Traits.ContainsKey(type);

    /// <summary>Values one block holds (1 for plain element types).</summary>
    public static int BlockSize(this GgmlType type) => Traits[type].BlockSize;

    /// <summary>Bytes one block takes.</summary>
    public static int TypeSize(this GgmlType type) => Traits[type].TypeSize;

    /// <summary>The types Vivace reads: F32, F16, BF16 and the two block formats it has reference kernels for.</summary>
    public static bool IsReadable(this GgmlType type) =>
        type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0;

    /// <summary>The <see cref="Vivace.Tensors.BlockFormat"/> of a block-quantized type Vivace reads, or null.</summary>
    public static Vivace.Tensors.BlockFormat? BlockFormat(this GgmlType type) => type switch
    {
        GgmlType.Q8_0 => Vivace.Tensors.BlockFormat.Q8_0,
        GgmlType.Q4_0 => Vivace.Tensors.BlockFormat.Q4_0,
        _ => null,
    };

    /// <summary>The type's name as ggml prints it ("Q8_0"), or "type N" for an id ggml does not define.</summary>
    public static string Name(this GgmlType type) => IsKnown(type) ? type.ToString() : $"type {(uint)type}";
}
