using System.Collections.Immutable;

namespace Vivace.Tensors;

/// <summary>An immutable list of dimension sizes.</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly ImmutableArray<int> _dims;

    public Shape(params ReadOnlySpan<int> dims)
    {
        foreach (int d in dims)
            if (d < 0) throw new ArgumentException($"negative dimension {d} in shape [{string.Join(", ", dims.ToArray())}]");
        _dims = [.. dims];
    }

    public int Rank => _dims.IsDefault ? 0 : _dims.Length;
    public int this[int axis] => _dims[axis < 0 ? axis + Rank : axis];
    public ReadOnlySpan<int> Dims => _dims.IsDefault ? [] : _dims.AsSpan();

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (int d in Dims) n = checked(n * d);
            return n;
        }
    }

    /// <summary>Row-major strides in elements.</summary>
    public int[] ContiguousStrides()
    {
        var strides = new int[Rank];
        int s = 1;
        for (int i = Rank - 1; i >= 0; i--)
        {
            strides[i] = s;
            s = checked(s * this[i]);
        }
        return strides;
    }

    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);
    public override string ToString() => "[" + string.Join(", ", Dims.ToArray()) + "]";
    public int[] ToArray() => Dims.ToArray();
}
