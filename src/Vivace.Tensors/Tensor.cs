using System.Runtime.InteropServices;

namespace Vivace.Tensors;

/// <summary>
/// A tensor: a shape, strides (in elements) and a dtype over managed storage. Views (reshape, slicing along the
/// first axis) share storage. Compute kernels take contiguous f32 tensors; other dtypes are converted on load.
/// </summary>
public sealed class Tensor
{
    private readonly Array _storage;
    private readonly int[] _strides;

    public DType DType { get; }
    public Shape Shape { get; }
    public ReadOnlySpan<int> Strides => _strides;
    /// <summary>Offset of the first element into the storage, in elements.</summary>
    public int Offset { get; }
    /// <summary>Optional name (the HF parameter name for weights) for error messages and dumps.</summary>
    public string? Name { get; init; }

    private Tensor(Array storage, DType dtype, Shape shape, int[] strides, int offset)
    {
        _storage = storage;
        DType = dtype;
        Shape = shape;
        _strides = strides;
        Offset = offset;
    }

    /// <summary>A new zero-filled contiguous tensor.</summary>
    public static Tensor Zeros(DType dtype, params ReadOnlySpan<int> dims)
    {
        var shape = new Shape(dims);
        Array storage = Array.CreateInstance(dtype.ClrType(), checked((int)shape.ElementCount));
        return new Tensor(storage, dtype, shape, shape.ContiguousStrides(), 0);
    }

    public static Tensor Zeros(params ReadOnlySpan<int> dims) => Zeros(DType.F32, dims);

    /// <summary>Wraps an array as a contiguous tensor without copying.</summary>
    public static Tensor FromArray<T>(T[] data, params ReadOnlySpan<int> dims) where T : unmanaged
    {
        var shape = new Shape(dims);
        if (shape.ElementCount != data.Length)
            throw new ArgumentException($"shape {shape} holds {shape.ElementCount} elements but the array has {data.Length}");
        return new Tensor(data, DTypeOf<T>(), shape, shape.ContiguousStrides(), 0);
    }

    public static DType DTypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DType.F32
        : typeof(T) == typeof(Half) ? DType.F16
        : typeof(T) == typeof(long) ? DType.I64
        : typeof(T) == typeof(int) ? DType.I32
        : typeof(T) == typeof(sbyte) ? DType.I8
        : typeof(T) == typeof(byte) ? DType.U8
        : typeof(T) == typeof(ushort) ? DType.BF16
        : throw new NotSupportedException($"no dtype for {typeof(T)}");

    public int Rank => Shape.Rank;
    public long ElementCount => Shape.ElementCount;

    public bool IsContiguous
    {
        get
        {
            int s = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (Shape[i] != 1 && _strides[i] != s) return false;
                s *= Shape[i];
            }
            return true;
        }
    }

    /// <summary>The elements of a contiguous tensor.</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        if (DTypeOf<T>() != DType)
            throw new InvalidOperationException($"tensor {Name ?? ""} {Shape} is {DType}, not {DTypeOf<T>()}");
        if (!IsContiguous)
            throw new InvalidOperationException($"tensor {Name ?? ""} {Shape} is not contiguous");
        return ((T[])_storage).AsSpan(Offset, checked((int)ElementCount));
    }

    /// <summary>The f32 elements of a contiguous tensor.</summary>
    public Span<float> AsSpan() => Span<float>();

    /// <summary>The same storage under another shape; the tensor must be contiguous. One dimension may be -1.</summary>
    public Tensor Reshape(params ReadOnlySpan<int> dims)
    {
        if (!IsContiguous) throw new InvalidOperationException($"cannot reshape a non-contiguous tensor {Shape}");
        int[] d = dims.ToArray();
        int infer = Array.IndexOf(d, -1);
        if (infer >= 0)
        {
            long known = 1;
            for (int i = 0; i < d.Length; i++) if (i != infer) known *= d[i];
            d[infer] = known == 0 ? 0 : checked((int)(ElementCount / known));
        }
        var shape = new Shape(d);
        if (shape.ElementCount != ElementCount)
            throw new ArgumentException($"cannot reshape {Shape} to {shape}");
        return new Tensor(_storage, DType, shape, shape.ContiguousStrides(), Offset) { Name = Name };
    }

    /// <summary>Rows [start, start+length) along the first axis, sharing storage.</summary>
    public Tensor Slice(int start, int length)
    {
        if (Rank == 0) throw new InvalidOperationException("cannot slice a scalar");
        if ((uint)start > (uint)Shape[0] || (uint)length > (uint)(Shape[0] - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"slice [{start}, {start + length}) outside {Shape}");
        int[] dims = Shape.ToArray();
        dims[0] = length;
        return new Tensor(_storage, DType, new Shape(dims), (int[])_strides.Clone(), Offset + start * _strides[0]) { Name = Name };
    }

    /// <summary>A contiguous f32 copy (converting f16, bf16 and integer types).</summary>
    public Tensor ToF32()
    {
        if (DType == DType.F32 && IsContiguous) return this;
        if (!IsContiguous) throw new NotSupportedException("ToF32 of a non-contiguous tensor");
        var result = Zeros(DType.F32, Shape.Dims);
        Span<float> dst = result.AsSpan();
        switch (DType)
        {
            case DType.F32: Span<float>().CopyTo(dst); break;
            case DType.F16: NumericConversions.HalfToSingle(Span<Half>(), dst); break;
            case DType.BF16: NumericConversions.BFloat16ToSingle(Span<ushort>(), dst); break;
            case DType.I64: { var s = Span<long>(); for (int i = 0; i < s.Length; i++) dst[i] = s[i]; break; }
            case DType.I32: { var s = Span<int>(); for (int i = 0; i < s.Length; i++) dst[i] = s[i]; break; }
            case DType.I8: { var s = Span<sbyte>(); for (int i = 0; i < s.Length; i++) dst[i] = s[i]; break; }
            case DType.U8: { var s = Span<byte>(); for (int i = 0; i < s.Length; i++) dst[i] = s[i]; break; }
        }
        return new Tensor(result._storage, DType.F32, Shape, Shape.ContiguousStrides(), 0) { Name = Name };
    }

    /// <summary>A contiguous copy with the last two axes swapped (for rank 2: the transpose).</summary>
    public Tensor TransposeLastTwo()
    {
        if (Rank < 2) throw new InvalidOperationException($"transpose needs rank >= 2, got {Shape}");
        Tensor src = ToF32();
        int rows = Shape[-2], cols = Shape[-1];
        int batch = checked((int)(ElementCount / Math.Max(1L, (long)rows * cols)));
        int[] dims = Shape.ToArray();
        (dims[^1], dims[^2]) = (rows, cols);
        var dst = Zeros(DType.F32, dims);
        ReadOnlySpan<float> s = src.AsSpan();
        Span<float> d = dst.AsSpan();
        for (int b = 0; b < batch; b++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    d[b * rows * cols + c * rows + r] = s[b * rows * cols + r * cols + c];
        return new Tensor(dst._storage, DType.F32, dst.Shape, dst.Shape.ContiguousStrides(), 0) { Name = Name };
    }

    /// <summary>The same tensor (shared storage) under another name.</summary>
    public Tensor WithName(string? name) => new(_storage, DType, Shape, (int[])_strides.Clone(), Offset) { Name = name };

    public override string ToString() => $"Tensor({Name ?? "?"}, {DType}, {Shape})";
}
