using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vivace.Cpu;

/// <summary>
/// One row of residual add + RMSNorm in two passes over the row: the sum and its squares, then the scaled output.
/// transformers' LlamaRMSNorm in f32: <c>y = w · (x · 1/sqrt(mean(x²) + eps))</c>.
/// </summary>
[SkipLocalsInit]
internal static unsafe class RmsNormKernel
{
    /// <summary>
    /// output = RMSNorm(input + residual)·weight for one row of <paramref name="n"/> floats; residual and sum may be
    /// null. sum (when given) receives input + residual and may alias input or residual; output may alias input or
    /// residual but not sum.
    /// </summary>
    public static void Row(KernelPath path, float* input, float* residual, float* weight, float epsilon, float* output, float* sum, int n)
    {
        switch (path)
        {
            case KernelPath.Vector512: Row<Lanes512, Vector512<float>>(input, residual, weight, epsilon, output, sum, n); break;
            case KernelPath.Vector256: Row<Lanes256, Vector256<float>>(input, residual, weight, epsilon, output, sum, n); break;
            case KernelPath.Vector128: Row<Lanes128, Vector128<float>>(input, residual, weight, epsilon, output, sum, n); break;
            default: RowScalar(input, residual, weight, epsilon, output, sum, n); break;
        }
    }

    private static void Row<TL, TV>(float* input, float* residual, float* weight, float epsilon, float* output, float* sum, int n)
        where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        // Pass 1: the summed row goes to sum, or to output when there is none (each element is read before it is
        // written, so either may alias input or residual), and its squares are totalled. Whole vectors, then the
        // scalar tail (< one vector) adds to the same total.
        float* stream = sum != null ? sum : output;
        TV squares = default;
        int i = 0;
        for (; i <= n - lanes; i += lanes)
        {
            TV v = TL.Load(input + i);
            if (residual != null) v = TL.Add(v, TL.Load(residual + i));
            TL.Store(stream + i, v);
            squares = TL.MultiplyAdd(v, v, squares);
        }
        float total = TL.Sum(squares);
        for (; i < n; i++)
        {
            float v = input[i] + (residual != null ? residual[i] : 0f);
            stream[i] = v;
            total += v * v;
        }
        float inv = 1f / MathF.Sqrt(total / n + epsilon);
        // Pass 2: w · (x · inv), multiplied in that order as transformers does; the tail is the same formula per lane.
        TV invV = TL.Splat(inv);
        for (i = 0; i <= n - lanes; i += lanes)
            TL.Store(output + i, TL.Multiply(TL.Load(weight + i), TL.Multiply(TL.Load(stream + i), invV)));
        for (; i < n; i++) output[i] = weight[i] * (stream[i] * inv);
    }

    /// <summary>The reference: one running total in row order, as the models' scalar RMSNorm had it.</summary>
    private static void RowScalar(float* input, float* residual, float* weight, float epsilon, float* output, float* sum, int n)
    {
        float* stream = sum != null ? sum : output;
        float total = 0;
        for (int i = 0; i < n; i++)
        {
            float v = input[i] + (residual != null ? residual[i] : 0f);
            stream[i] = v;
            total += v * v;
        }
        float inv = 1f / MathF.Sqrt(total / n + epsilon);
        for (int i = 0; i < n; i++) output[i] = weight[i] * (stream[i] * inv);
    }
}
