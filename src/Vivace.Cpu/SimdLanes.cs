using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Vivace.Cpu;

/// <summary>
/// One vector width's operations, so a kernel is written once as a generic over <c>TLanes</c> and the JIT
/// specializes it per width (struct type arguments get their own code; these one-liners inline away).
/// </summary>
internal unsafe interface ISimdLanes<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Load(float* p);
    static abstract void Store(float* p, TV v);
    static abstract TV Splat(float x);
    static abstract TV Add(TV a, TV b);
    static abstract TV Subtract(TV a, TV b);
    static abstract TV Multiply(TV a, TV b);
    static abstract TV Divide(TV a, TV b);
    /// <summary>a·b + c with one rounding.</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);
    /// <summary>
    /// The lane-wise maximum as the CPU's instruction computes it (vmaxps): one instruction, where .NET's IEEE
    /// <c>Vector.Max</c> takes eight on x64. Where either lane is NaN the result is <paramref name="b"/>'s lane (x64; ARM's
    /// fmax gives NaN), and of two zeros it may be either: a value whose NaN must survive goes second.
    /// </summary>
    static abstract TV Max(TV a, TV b);
    /// <summary>The lane-wise minimum, on the terms of <see cref="Max"/>.</summary>
    static abstract TV Min(TV a, TV b);
    static abstract TV Abs(TV a);
    /// <summary>Copies the sign of <paramref name="sign"/> onto <paramref name="magnitude"/> (magnitude ≥ 0).</summary>
    static abstract TV WithSignOf(TV magnitude, TV sign);
    static abstract TV RoundToNearest(TV a);
    /// <summary>2^n for integral n in [-126, 127]: n goes straight into the exponent bits (the CPU's own conversion: n is
    /// in range, so .NET's saturating one would only add instructions; a NaN lane gives garbage bits, which callers multiply
    /// by their NaN anyway).</summary>
    static abstract TV Pow2(TV integralN);
    /// <summary>Lanes where a &lt; b take zero, others keep <paramref name="value"/>.</summary>
    static abstract TV ZeroWhereLess(TV a, TV b, TV value);
    /// <summary>Per lane: a &lt; b ? ifLess : otherwise.</summary>
    static abstract TV WhereLess(TV a, TV b, TV ifLess, TV otherwise);
    static abstract float Sum(TV a);
    static abstract float MaxAcross(TV a);
}

internal unsafe struct Lanes512 : ISimdLanes<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Abs(Vector512<float> a) => Vector512.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> WithSignOf(Vector512<float> m, Vector512<float> s) => m | (s & Vector512.Create(-0f));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> RoundToNearest(Vector512<float> a) => Vector512.Round(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Pow2(Vector512<float> n) => Vector512.ShiftLeft(Vector512.ConvertToInt32Native(n) + Vector512.Create(127), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ZeroWhereLess(Vector512<float> a, Vector512<float> b, Vector512<float> v) => Vector512.AndNot(v, Vector512.LessThan(a, b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> WhereLess(Vector512<float> a, Vector512<float> b, Vector512<float> x, Vector512<float> y) => Vector512.ConditionalSelect(Vector512.LessThan(a, b), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> a) => Vector512.Sum(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector512<float> a) => Lanes256.MaxAcross(Vector256.MaxNative(a.GetLower(), a.GetUpper()));
}

internal unsafe struct Lanes256 : ISimdLanes<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector256<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Abs(Vector256<float> a) => Vector256.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> WithSignOf(Vector256<float> m, Vector256<float> s) => m | (s & Vector256.Create(-0f));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> RoundToNearest(Vector256<float> a) => Vector256.Round(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Pow2(Vector256<float> n) => Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n) + Vector256.Create(127), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ZeroWhereLess(Vector256<float> a, Vector256<float> b, Vector256<float> v) => Vector256.AndNot(v, Vector256.LessThan(a, b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> WhereLess(Vector256<float> a, Vector256<float> b, Vector256<float> x, Vector256<float> y) => Vector256.ConditionalSelect(Vector256.LessThan(a, b), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> a) => Vector256.Sum(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector256<float> a) => Lanes128.MaxAcross(Vector128.MaxNative(a.GetLower(), a.GetUpper()));
}

internal unsafe struct Lanes128 : ISimdLanes<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector128<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Splat(float x) => Vector128.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;
    /// <summary>Without hardware FMA (SSE only) a fused multiply-add would be emulated per lane: multiply then add instead.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Fma.IsSupported || AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Abs(Vector128<float> a) => Vector128.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> WithSignOf(Vector128<float> m, Vector128<float> s) => m | (s & Vector128.Create(-0f));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> RoundToNearest(Vector128<float> a) => Vector128.Round(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Pow2(Vector128<float> n) => Vector128.ShiftLeft(Vector128.ConvertToInt32Native(n) + Vector128.Create(127), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ZeroWhereLess(Vector128<float> a, Vector128<float> b, Vector128<float> v) => Vector128.AndNot(v, Vector128.LessThan(a, b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> WhereLess(Vector128<float> a, Vector128<float> b, Vector128<float> x, Vector128<float> y) => Vector128.ConditionalSelect(Vector128.LessThan(a, b), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> a) => Vector128.Sum(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> a)
    {
        // Scalar tail of the reduction: 4 lanes, order irrelevant for max.
        return MathF.Max(MathF.Max(a.GetElement(0), a.GetElement(1)), MathF.Max(a.GetElement(2), a.GetElement(3)));
    }
}
