using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>A function applied lane by lane, in a vector form and a scalar form that computes the same thing.</summary>
internal interface IUnaryOp
{
    static abstract TV Apply<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct;
    static abstract float Apply(float x);
}

internal struct GeluErfOp : IUnaryOp
{
    private const float InvSqrt2 = 0.70710678118654752f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct
    {
        TV half = TL.Multiply(x, TL.Splat(0.5f));
        return TL.MultiplyAdd(half, VectorMath.Erf<TL, TV>(TL.Multiply(x, TL.Splat(InvSqrt2))), half);
    }
    public static float Apply(float x) { float half = 0.5f * x; return MathF.FusedMultiplyAdd(half, VectorMath.Erf(x * InvSqrt2), half); }
}

internal struct GeluTanhOp : IUnaryOp
{
    private const float Sqrt2OverPi = 0.79788456080286536f;
    private const float Cubic = 0.044715f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct
    {
        TV x2 = TL.Multiply(x, x);
        TV inner = TL.Multiply(TL.Multiply(x, TL.Splat(Sqrt2OverPi)), TL.MultiplyAdd(x2, TL.Splat(Cubic), TL.Splat(1f)));
        TV half = TL.Multiply(x, TL.Splat(0.5f));
        return TL.MultiplyAdd(half, VectorMath.Tanh<TL, TV>(inner), half);
    }
    public static float Apply(float x)
    {
        float inner = x * Sqrt2OverPi * MathF.FusedMultiplyAdd(x * x, Cubic, 1f);
        float half = 0.5f * x;
        return MathF.FusedMultiplyAdd(half, VectorMath.Tanh(inner), half);
    }
}

internal struct ReluOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct => TL.Max(default, x); // NaN stays NaN
    public static float Apply(float x) => MathF.Max(x, 0f);
}

internal struct TanhOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct => VectorMath.Tanh<TL, TV>(x);
    public static float Apply(float x) => VectorMath.Tanh(x);
}

internal struct SiluOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct =>
        TL.Divide(x, TL.Add(TL.Splat(1f), VectorMath.Exp<TL, TV>(TL.Subtract(default, x))));
    public static float Apply(float x) => x / (1f + VectorMath.Exp(-x));
}

internal struct IdentityOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct => x;
    public static float Apply(float x) => x;
}

/// <summary>In-place activations and element-wise adds on contiguous floats, one entry point per path.</summary>
[SkipLocalsInit]
internal static unsafe class Elementwise
{
    public static void Activate(KernelPath path, float* x, int length, Activation activation)
    {
        switch (activation)
        {
            case Activation.None: return;
            case Activation.Gelu: Map<GeluErfOp>(path, x, length); return;
            case Activation.GeluTanh: Map<GeluTanhOp>(path, x, length); return;
            case Activation.Relu: Map<ReluOp>(path, x, length); return;
            case Activation.Tanh: Map<TanhOp>(path, x, length); return;
            case Activation.Silu: Map<SiluOp>(path, x, length); return;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation");
        }
    }

    private static void Map<TOp>(KernelPath path, float* x, int length) where TOp : IUnaryOp
    {
        switch (path)
        {
            case KernelPath.Vector512: Map<TOp, Lanes512, Vector512<float>>(x, length); break;
            case KernelPath.Vector256: Map<TOp, Lanes256, Vector256<float>>(x, length); break;
            case KernelPath.Vector128: Map<TOp, Lanes128, Vector128<float>>(x, length); break;
            default: for (int i = 0; i < length; i++) x[i] = TOp.Apply(x[i]); break;
        }
    }

    private static void Map<TOp, TL, TV>(float* x, int length) where TOp : IUnaryOp where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        int i = 0;
        // Two vectors per step: two independent dependency chains through the long erf/exp polynomials.
        for (; i <= length - 2 * lanes; i += 2 * lanes)
        {
            TV a = TOp.Apply<TL, TV>(TL.Load(x + i));
            TV b = TOp.Apply<TL, TV>(TL.Load(x + i + lanes));
            TL.Store(x + i, a);
            TL.Store(x + i + lanes, b);
        }
        for (; i <= length - lanes; i += lanes) TL.Store(x + i, TOp.Apply<TL, TV>(TL.Load(x + i)));
        // Tail (< one vector): the scalar twin of the same formula. An overlapping last vector would apply twice in place.
        for (; i < length; i++) x[i] = TOp.Apply(x[i]);
    }

    public static void Add(KernelPath path, float* x, float* addend, int length)
    {
        switch (path)
        {
            case KernelPath.Vector512: Add<Lanes512, Vector512<float>>(x, addend, length); break;
            case KernelPath.Vector256: Add<Lanes256, Vector256<float>>(x, addend, length); break;
            case KernelPath.Vector128: Add<Lanes128, Vector128<float>>(x, addend, length); break;
            default: for (int i = 0; i < length; i++) x[i] += addend[i]; break;
        }
    }

    private static void Add<TL, TV>(float* x, float* addend, int length) where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        int i = 0;
        for (; i <= length - lanes; i += lanes) TL.Store(x + i, TL.Add(TL.Load(x + i), TL.Load(addend + i)));
        for (; i < length; i++) x[i] += addend[i];
    }

    /// <summary>output = LN(input + residual)·gamma + beta for one row. output may alias input or residual.</summary>
    /// <summary>One row of LayerNorm(input + residual); <paramref name="rowSum"/>, when not null, also receives input +
    /// residual (it may be input or residual, never output: the later passes rewrite output).</summary>
    public static void LayerNormRow(KernelPath path, float* input, float* residual, float* gamma, float* beta, float epsilon, float* output, int n,
        float* rowSum = null)
    {
        switch (path)
        {
            case KernelPath.Vector512: LayerNormRow<Lanes512, Vector512<float>>(input, residual, gamma, beta, epsilon, output, n, rowSum); break;
            case KernelPath.Vector256: LayerNormRow<Lanes256, Vector256<float>>(input, residual, gamma, beta, epsilon, output, n, rowSum); break;
            case KernelPath.Vector128: LayerNormRow<Lanes128, Vector128<float>>(input, residual, gamma, beta, epsilon, output, n, rowSum); break;
            default: LayerNormRowScalar(input, residual, gamma, beta, epsilon, output, n, rowSum); break;
        }
    }

    private static void LayerNormRow<TL, TV>(float* input, float* residual, float* gamma, float* beta, float epsilon, float* output, int n,
        float* rowSum)
        where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        // Pass 1: the summed row goes to output (each element read before it is written, so aliasing is safe) and is totalled.
        TV sumV = default;
        int i = 0;
        for (; i <= n - lanes; i += lanes)
        {
            TV v = TL.Load(input + i);
            if (residual != null) v = TL.Add(v, TL.Load(residual + i));
            TL.Store(output + i, v);
            if (rowSum != null) TL.Store(rowSum + i, v);
            sumV = TL.Add(sumV, v);
        }
        float sum = TL.Sum(sumV);
        for (; i < n; i++)
        {
            float v = input[i] + (residual != null ? residual[i] : 0f);
            output[i] = v;
            if (rowSum != null) rowSum[i] = v;
            sum += v;
        }
        float mean = sum / n;
        // Pass 2: variance around the mean (two-pass: no cancellation when |mean| ≫ spread).
        TV meanV = TL.Splat(mean), sqV = default;
        for (i = 0; i <= n - lanes; i += lanes)
        {
            TV d = TL.Subtract(TL.Load(output + i), meanV);
            sqV = TL.MultiplyAdd(d, d, sqV);
        }
        float sq = TL.Sum(sqV);
        for (; i < n; i++) { float d = output[i] - mean; sq += d * d; }
        float invStd = 1f / MathF.Sqrt(sq / n + epsilon);
        // Pass 3: normalize, scale, shift.
        TV invV = TL.Splat(invStd);
        for (i = 0; i <= n - lanes; i += lanes)
        {
            TV normalized = TL.Multiply(TL.Subtract(TL.Load(output + i), meanV), invV);
            TL.Store(output + i, TL.MultiplyAdd(normalized, TL.Load(gamma + i), TL.Load(beta + i)));
        }
        for (; i < n; i++) output[i] = (output[i] - mean) * invStd * gamma[i] + beta[i];
    }

    private static void LayerNormRowScalar(float* input, float* residual, float* gamma, float* beta, float epsilon, float* output, int n,
        float* rowSum)
    {
        float sum = 0;
        for (int i = 0; i < n; i++)
        {
            float v = input[i] + (residual != null ? residual[i] : 0f);
            output[i] = v;
            if (rowSum != null) rowSum[i] = v;
            sum += v;
        }
        float mean = sum / n, sq = 0;
        for (int i = 0; i < n; i++) { float d = output[i] - mean; sq += d * d; }
        float invStd = 1f / MathF.Sqrt(sq / n + epsilon);
        for (int i = 0; i < n; i++) output[i] = (output[i] - mean) * invStd * gamma[i] + beta[i];
    }
}
