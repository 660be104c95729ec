using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Vivace.Tensors;

namespace Vivace.Formats;

/// <summary>Element encodings that weight files store (little-endian), shared by the safetensors and ONNX readers.</summary>
internal enum StorageKind
{
    F32,
    F16,
    BF16,
    F64,
    I64,
    I32,
    I16,
    U16,
    I8,
    U8,
    Bool,
    U32,
    U64,
}

internal static class StorageKinds
{
    public static int Size(this StorageKind kind) => kind switch
    {
        StorageKind.F64 or StorageKind.I64 or StorageKind.U64 => 8,
        StorageKind.F32 or StorageKind.I32 or StorageKind.U32 => 4,
        StorageKind.F16 or StorageKind.BF16 or StorageKind.I16 or StorageKind.U16 => 2,
        _ => 1,
    };

    /// <summary>The Vivace dtype that holds this encoding unchanged, if there is one (BOOL is held as U8).</summary>
    public static DType? ToDType(this StorageKind kind) => kind switch
    {
        StorageKind.F32 => DType.F32,
        StorageKind.F16 => DType.F16,
        StorageKind.BF16 => DType.BF16,
        StorageKind.I64 => DType.I64,
        StorageKind.I32 => DType.I32,
        StorageKind.I8 => DType.I8,
        StorageKind.U8 or StorageKind.Bool => DType.U8,
        _ => null,
    };

    /// <summary>Decodes <paramref name="src"/> (exactly dst.Length elements) into f32.</summary>
    public static void ToSingle(this StorageKind kind, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (src.Length != (long)dst.Length * kind.Size())
            throw new ArgumentException($"{src.Length} bytes do not hold {dst.Length} {kind} elements");
        switch (kind)
        {
            case StorageKind.F32:
                if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                else for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]);
                break;
            case StorageKind.F16:
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(i * 2)..]);
                break;
            case StorageKind.BF16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]) << 16);
                break;
            case StorageKind.F64:
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(i * 8)..]);
                break;
            case StorageKind.I64:
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt64LittleEndian(src[(i * 8)..]);
                break;
            case StorageKind.U64:
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt64LittleEndian(src[(i * 8)..]);
                break;
            case StorageKind.I32:
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(i * 4)..]);
                break;
            case StorageKind.U32:
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt32LittleEndian(src[(i * 4)..]);
                break;
            case StorageKind.I16:
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(i * 2)..]);
                break;
            case StorageKind.U16:
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]);
                break;
            case StorageKind.I8:
                for (int i = 0; i < dst.Length; i++) dst[i] = (sbyte)src[i];
                break;
            case StorageKind.U8:
                for (int i = 0; i < dst.Length; i++) dst[i] = src[i];
                break;
            case StorageKind.Bool:
                for (int i = 0; i < dst.Length; i++) dst[i] = src[i] != 0 ? 1f : 0f;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown storage kind");
        }
    }

    /// <summary>A new f32 tensor decoded from <paramref name="src"/>.</summary>
    public static Tensor DecodeF32(this StorageKind kind, ReadOnlySpan<byte> src, Shape shape, string name)
    {
        var data = new float[checked((int)shape.ElementCount)];
        kind.ToSingle(src, data);
        return Tensor.FromArray(data, shape.Dims).WithName(name);
    }

    /// <summary>A new tensor in the stored dtype (where Vivace has one), bytes copied unchanged.</summary>
    public static Tensor DecodeRaw(this StorageKind kind, ReadOnlySpan<byte> src, Shape shape, string name)
    {
        int n = checked((int)shape.ElementCount);
        Tensor t = kind.ToDType() switch
        {
            DType.F16 => Copy<Half>(src, n, shape),
            DType.BF16 => Copy<ushort>(src, n, shape),
            DType.I64 => Copy<long>(src, n, shape),
            DType.I32 => Copy<int>(src, n, shape),
            DType.I8 => Copy<sbyte>(src, n, shape),
            DType.U8 when kind == StorageKind.Bool => BoolCopy(src, n, shape),
            DType.U8 => Copy<byte>(src, n, shape),
            _ => kind.DecodeF32(src, shape, name),
        };
        return t.WithName(name);
    }

    private static Tensor Copy<T>(ReadOnlySpan<byte> src, int n, Shape shape) where T : unmanaged
    {
        var data = new T[n];
        src.CopyTo(MemoryMarshal.AsBytes(data.AsSpan()));
        if (!BitConverter.IsLittleEndian && Marshal.SizeOf<T>() > 1)
            throw new PlatformNotSupportedException("raw weight access needs a little-endian machine");
        return Tensor.FromArray(data, shape.Dims);
    }

    private static Tensor BoolCopy(ReadOnlySpan<byte> src, int n, Shape shape)
    {
        var data = new byte[n];
        for (int i = 0; i < n; i++) data[i] = src[i] != 0 ? (byte)1 : (byte)0;
        return Tensor.FromArray(data, shape.Dims);
    }
}
