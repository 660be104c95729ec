using System.Runtime.CompilerServices;

namespace Vivace.Cpu;

/// <summary>
/// exp, erf and tanh on whole vectors, written once over <see cref="ISimdLanes{TV}"/>, with scalar twins that
/// use the same formulas (so the scalar path and the vector paths agree to rounding).
/// </summary>
internal static class VectorMath
{
    // exp: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two so n·ln2Hi is exact), e^r by a degree-6 polynomial.
    private const float Log2E = 1.44269504f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    /// <summary>Clamp so that round(x·log2 e) ≤ 127 and 2^n stays a normal float.</summary>
    private const float ExpMax = 88.0f;
    /// <summary>Below this e^x is under the smallest normal float: the result is flushed to zero.</summary>
    private const float ExpMin = -87.3365479f;
    private const float P0 = 1.0f, P1 = 1.0f, P2 = 0.5f, P3 = 0.166666672f, P4 = 0.0416666418f, P5 = 0.00833336543f, P6 = 0.00138878822f;

    // erf (Abramowitz & Stegun 7.1.26): 1 - (a1 t + … + a5 t⁵)·e^(-x²), t = 1/(1+p|x|), |error| ≤ 1.5e-7.
    private const float ErfP = 0.3275911f;
    private const float A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct
    {
        // x goes second in both: a NaN lane survives the clamp (see ISimdLanes.Max).
        TV clamped = TL.Min(TL.Splat(ExpMax), TL.Max(TL.Splat(ExpMin), x));
        TV n = TL.RoundToNearest(TL.Multiply(clamped, TL.Splat(Log2E)));
        TV r = TL.MultiplyAdd(n, TL.Splat(-Ln2Hi), clamped);
        r = TL.MultiplyAdd(n, TL.Splat(-Ln2Lo), r);
        TV p = TL.MultiplyAdd(TL.Splat(P6), r, TL.Splat(P5));
        p = TL.MultiplyAdd(p, r, TL.Splat(P4));
        p = TL.MultiplyAdd(p, r, TL.Splat(P3));
        p = TL.MultiplyAdd(p, r, TL.Splat(P2));
        p = TL.MultiplyAdd(p, r, TL.Splat(P1));
        p = TL.MultiplyAdd(p, r, TL.Splat(P0));
        // n ≤ 127 after the clamp, so 2^n is a normal float; lanes below ExpMin become exactly 0 (e^-inf = 0).
        return TL.ZeroWhereLess(x, TL.Splat(ExpMin), TL.Multiply(p, TL.Pow2(n)));
    }

    public static float Exp(float x)
    {
        if (x < ExpMin) return 0f;
        float clamped = MathF.Min(x, ExpMax);
        float n = MathF.Round(clamped * Log2E);
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, clamped);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float p = MathF.FusedMultiplyAdd(P6, r, P5);
        p = MathF.FusedMultiplyAdd(p, r, P4);
        p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P2);
        p = MathF.FusedMultiplyAdd(p, r, P1);
        p = MathF.FusedMultiplyAdd(p, r, P0);
        return p * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Erf<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct
    {
        TV ax = TL.Abs(x);
        TV t = TL.Divide(TL.Splat(1f), TL.MultiplyAdd(ax, TL.Splat(ErfP), TL.Splat(1f)));
        TV poly = TL.MultiplyAdd(TL.Splat(A5), t, TL.Splat(A4));
        poly = TL.MultiplyAdd(poly, t, TL.Splat(A3));
        poly = TL.MultiplyAdd(poly, t, TL.Splat(A2));
        poly = TL.MultiplyAdd(poly, t, TL.Splat(A1));
        poly = TL.Multiply(poly, t);
        TV e = Exp<TL, TV>(TL.Multiply(TL.Subtract(default, ax), ax));
        TV erfAbs = TL.Subtract(TL.Splat(1f), TL.Multiply(poly, e));
        return TL.WithSignOf(erfAbs, x);
    }

    public static float Erf(float x)
    {
        float ax = MathF.Abs(x);
        float t = 1f / MathF.FusedMultiplyAdd(ax, ErfP, 1f);
        float poly = MathF.FusedMultiplyAdd(A5, t, A4);
        poly = MathF.FusedMultiplyAdd(poly, t, A3);
        poly = MathF.FusedMultiplyAdd(poly, t, A2);
        poly = MathF.FusedMultiplyAdd(poly, t, A1);
        poly *= t;
        float erfAbs = 1f - poly * Exp(-ax * ax);
        return MathF.CopySign(erfAbs, x);
    }

    /// <summary>
    /// Below this |x|, tanh x = x(1 - x²/3 + 2x⁴/15 - 17x⁶/315) to float precision (next term ~1e-9 relative): the
    /// exp form's 1 - (≈1) cancellation would leave only ~1e-7 absolute accuracy, i.e. poor relative accuracy near 0.
    /// </summary>
    private const float TanhSeriesLimit = 0.125f;
    private const float T1 = -1f / 3f, T2 = 2f / 15f, T3 = -17f / 315f;

    /// <summary>tanh |x| = 1 - 2/(e^(2|x|)+1): no overflow (e^large = inf gives exactly 1), sign restored after.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TL, TV>(TV x) where TL : ISimdLanes<TV> where TV : struct
    {
        TV ax = TL.Abs(x);
        TV e = Exp<TL, TV>(TL.Add(ax, ax));
        TV tanhAbs = TL.Subtract(TL.Splat(1f), TL.Divide(TL.Splat(2f), TL.Add(e, TL.Splat(1f))));
        TV x2 = TL.Multiply(ax, ax);
        TV poly = TL.MultiplyAdd(TL.MultiplyAdd(TL.Splat(T3), x2, TL.Splat(T2)), x2, TL.Splat(T1));
        TV series = TL.MultiplyAdd(TL.Multiply(poly, x2), ax, ax);
        return TL.WithSignOf(TL.WhereLess(ax, TL.Splat(TanhSeriesLimit), series, tanhAbs), x);
    }

    public static float Tanh(float x)
    {
        float ax = MathF.Abs(x);
        if (ax < TanhSeriesLimit)
        {
            float x2 = ax * ax;
            float poly = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(T3, x2, T2), x2, T1);
            return MathF.CopySign(MathF.FusedMultiplyAdd(poly * x2, ax, ax), x);
        }
        float e = Exp(ax + ax);
        return MathF.CopySign(1f - 2f / (e + 1f), x);
    }
}
