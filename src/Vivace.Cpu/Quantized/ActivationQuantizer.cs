using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Vivace.Cpu.Quantized;

/// <summary>
/// Activation rows to Q8_0 blocks at run time, bit-exact with ggml's quantize_row_q8_0_ref (and so with
/// <see cref="Vivace.Tensors.BlockQuantization"/>): d = max|x| / 127 kept as fp16, q = round(x · (1/d)) half away from
/// zero, where 1/d comes from the f32 d (as ggml does). The scale is stored as the f32 value of that fp16.
/// Every path does the same f32 operations in the same order per value (max is order-free), so the bytes match.
/// </summary>
internal static unsafe class ActivationQuantizer
{
    /// <summary>
    /// Quantizes <paramref name="blocks"/> blocks of <paramref name="x"/> into <paramref name="q"/> (32 a block) and
    /// <paramref name="d"/>; where <paramref name="correction"/> is not null also stores −8·d·Σq per block (what a Q4_0
    /// dot over unsigned nibbles q_w takes back: Σ(q_w − 8)·q = Σq_w·q − 8Σq).
    /// </summary>
    public static void QuantizeRow(KernelPath path, float* x, int blocks, sbyte* q, float* d, float* correction)
    {
        for (int b = 0; b < blocks; b++)
        {
            float* v = x + b * 32;
            sbyte* target = q + b * 32;
            int sum = path switch
            {
                KernelPath.Vector512 when Vector512.IsHardwareAccelerated => Block512(v, target, out d[b]),
                KernelPath.Vector256 or KernelPath.Vector512 when Vector256.IsHardwareAccelerated => Block256(v, target, out d[b]),
                KernelPath.Vector128 or KernelPath.Vector256 or KernelPath.Vector512 when Vector128.IsHardwareAccelerated => Block128(v, target, out d[b]),
                _ => BlockScalar(v, target, out d[b]),
            };
            if (correction != null) correction[b] = -8f * d[b] * sum;
        }
    }

    /// <summary>The reference: ggml's loop, value by value. Returns Σq.</summary>
    internal static int BlockScalar(float* x, sbyte* q, out float scale)
    {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
        scale = (float)(Half)d;
        int sum = 0;
        for (int i = 0; i < 32; i++)
        {
            q[i] = (sbyte)MathF.Round(x[i] * id, MidpointRounding.AwayFromZero);
            sum += q[i];
        }
        return sum;
    }

    /// <summary>Eight lanes, four vectors a block.</summary>
    private static int Block256(float* x, sbyte* q, out float scale)
    {
        Vector256<float> v0 = Vector256.Load(x), v1 = Vector256.Load(x + 8), v2 = Vector256.Load(x + 16), v3 = Vector256.Load(x + 24);
        Vector256<float> m = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
        Vector128<float> h = Vector128.Max(m.GetLower(), m.GetUpper());
        float amax = MathF.Max(MathF.Max(h[0], h[1]), MathF.Max(h[2], h[3]));
        float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
        scale = (float)(Half)d;
        var idV = Vector256.Create(id);
        Vector256<int> i0 = Round(v0 * idV), i1 = Round(v1 * idV), i2 = Round(v2 * idV), i3 = Round(v3 * idV);
        // int32 → int16 → int8: Narrow keeps lane order (the values are in [−127, 127], so nothing is cut off).
        Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).Store(q);
        return Vector256.Sum((i0 + i1) + (i2 + i3));
    }

    /// <summary>Sixteen lanes, two vectors a block.</summary>
    private static int Block512(float* x, sbyte* q, out float scale)
    {
        Vector512<float> v0 = Vector512.Load(x), v1 = Vector512.Load(x + 16);
        Vector512<float> m = Vector512.Max(Vector512.Abs(v0), Vector512.Abs(v1));
        Vector256<float> m8 = Vector256.Max(m.GetLower(), m.GetUpper());
        Vector128<float> h = Vector128.Max(m8.GetLower(), m8.GetUpper());
        float amax = MathF.Max(MathF.Max(h[0], h[1]), MathF.Max(h[2], h[3]));
        float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
        scale = (float)(Half)d;
        var idV = Vector512.Create(id);
        Vector512<int> i0 = Round(v0 * idV), i1 = Round(v1 * idV);
        // 32 int32 → 32 int16 → the low 32 bytes of the int8 narrowing (its upper half repeats them).
        Vector512<short> s = Vector512.Narrow(i0, i1);
        Vector512.Narrow(s, s).GetLower().Store(q);
        return Vector512.Sum(i0 + i1);
    }

    /// <summary>Four lanes, eight vectors a block.</summary>
    private static int Block128(float* x, sbyte* q, out float scale)
    {
        Vector128<float> m = Vector128<float>.Zero;
        for (int i = 0; i < 32; i += 4) m = Vector128.Max(m, Vector128.Abs(Vector128.Load(x + i)));
        float amax = MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
        float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
        scale = (float)(Half)d;
        var idV = Vector128.Create(id);
        Vector128<int> sum = Vector128<int>.Zero;
        for (int i = 0; i < 32; i += 16)
        {
            Vector128<int> i0 = Round(Vector128.Load(x + i) * idV), i1 = Round(Vector128.Load(x + i + 4) * idV);
            Vector128<int> i2 = Round(Vector128.Load(x + i + 8) * idV), i3 = Round(Vector128.Load(x + i + 12) * idV);
            Vector128.Narrow(Vector128.Narrow(i0, i1), Vector128.Narrow(i2, i3)).Store(q + i);
            sum += (i0 + i1) + (i2 + i3);
        }
        return Vector128.Sum(sum);
    }

    // Round half away from zero, exactly as MathF.Round(v, AwayFromZero): t = trunc(v), and v − t is exact in f32, so
    // |v − t| ≥ 0.5 decides the step ±1 with no rounding of its own (v + 0.5 would round 0.49999997 up to 1).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Round(Vector256<float> v)
    {
        Vector256<float> t = Vector256.Truncate(v);
        Vector256<float> step = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256.Abs(v - t), Vector256.Create(0.5f)),
            Vector256.Create(1f) | (v & Vector256.Create(-0f)), Vector256<float>.Zero);
        return Vector256.ConvertToInt32(t + step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Round(Vector512<float> v)
    {
        Vector512<float> t = Vector512.Truncate(v);
        Vector512<float> step = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512.Abs(v - t), Vector512.Create(0.5f)),
            Vector512.Create(1f) | (v & Vector512.Create(-0f)), Vector512<float>.Zero);
        return Vector512.ConvertToInt32(t + step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Round(Vector128<float> v)
    {
        Vector128<float> t = Vector128.Truncate(v);
        Vector128<float> step = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(Vector128.Abs(v - t), Vector128.Create(0.5f)),
            Vector128.Create(1f) | (v & Vector128.Create(-0f)), Vector128<float>.Zero);
        return Vector128.ConvertToInt32(t + step);
    }
}
