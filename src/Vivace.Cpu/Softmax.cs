using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vivace.Cpu;

/// <summary>Row softmax of scaled scores plus an optional additive bias, max-subtracted, in place.</summary>
[SkipLocalsInit]
internal static unsafe class Softmax
{
    /// <summary>row[j] = softmax_j(scale·row[j] + bias[j]) for j &lt; length (bias may be null).</summary>
    public static void Row(KernelPath path, float* row, int length, float scale, float* bias)
    {
        switch (path)
        {
            case KernelPath.Vector512: Row<Lanes512, Vector512<float>>(row, length, scale, bias); break;
            case KernelPath.Vector256: Row<Lanes256, Vector256<float>>(row, length, scale, bias); break;
            case KernelPath.Vector128: Row<Lanes128, Vector128<float>>(row, length, scale, bias); break;
            default: RowScalar(row, length, scale, bias); break;
        }
    }

    private static void Row<TL, TV>(float* row, int length, float scale, float* bias) where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        TV scaleV = TL.Splat(scale);
        // Pass 1: scale, add bias, track the maximum (vector lanes, then the scalar tail).
        TV maxV = TL.Splat(float.NegativeInfinity);
        int j = 0;
        for (; j <= length - lanes; j += lanes)
        {
            TV s = TL.Multiply(TL.Load(row + j), scaleV);
            if (bias != null) s = TL.Add(s, TL.Load(bias + j));
            TL.Store(row + j, s);
            maxV = TL.Max(maxV, s);
        }
        float max = TL.MaxAcross(maxV);
        for (; j < length; j++)
        {
            float s = row[j] * scale + (bias != null ? bias[j] : 0f);
            row[j] = s;
            max = MathF.Max(max, s);
        }
        // Pass 2: exponentials of the max-subtracted scores, and their total.
        TV negMax = TL.Splat(-max), sumV = default;
        for (j = 0; j <= length - lanes; j += lanes)
        {
            TV e = VectorMath.Exp<TL, TV>(TL.Add(TL.Load(row + j), negMax));
            TL.Store(row + j, e);
            sumV = TL.Add(sumV, e);
        }
        float sum = TL.Sum(sumV);
        for (; j < length; j++)
        {
            float e = VectorMath.Exp(row[j] - max);
            row[j] = e;
            sum += e;
        }
        // Pass 3: normalize.
        TV inv = TL.Splat(1f / sum);
        for (j = 0; j <= length - lanes; j += lanes) TL.Store(row + j, TL.Multiply(TL.Load(row + j), inv));
        float invScalar = 1f / sum;
        for (; j < length; j++) row[j] *= invScalar;
    }

    private static void RowScalar(float* row, int length, float scale, float* bias)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < length; j++)
        {
            float s = row[j] * scale + (bias != null ? bias[j] : 0f);
            row[j] = s;
            max = MathF.Max(max, s);
        }
        float sum = 0;
        for (int j = 0; j < length; j++) { row[j] = VectorMath.Exp(row[j] - max); sum += row[j]; }
        float inv = 1f / sum;
        for (int j = 0; j < length; j++) row[j] *= inv;
    }
}
