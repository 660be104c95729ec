using System.Numerics;

namespace Vivace.Models.Decoders;

/// <summary>
/// rotate_half on one head: dim i pairs with i + half, <c>a' = a·cos − b·sin</c>, <c>b' = b·cos + a·sin</c>. The pairs
/// sit half a rotary span apart, so lanes i..i+n of both halves are two contiguous loads. Vector and scalar forms do the
/// same two products and one add per value (no fused multiply-add), so they agree bit for bit.
/// </summary>
internal static class RopeRotation
{
    /// <summary>Rotates the first 2·<paramref name="cos"/>.Length floats of <paramref name="head"/> in place.</summary>
    public static void Rotate(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, bool vectorized = true)
    {
        int half = cos.Length, i = 0;
        Span<float> first = head[..half], second = head.Slice(half, half);
        if (vectorized && Vector.IsHardwareAccelerated)
        {
            // Whole vectors of both halves; the tail (< one vector) goes through the scalar loop below.
            for (; i <= half - Vector<float>.Count; i += Vector<float>.Count)
            {
                var a = new Vector<float>(first[i..]);
                var b = new Vector<float>(second[i..]);
                var c = new Vector<float>(cos[i..]);
                var s = new Vector<float>(sin[i..]);
                (a * c - b * s).CopyTo(first[i..]);
                (b * c + a * s).CopyTo(second[i..]);
            }
        }
        for (; i < half; i++)
        {
            float a = first[i], b = second[i];
            first[i] = a * cos[i] - b * sin[i];
            second[i] = b * cos[i] + a * sin[i];
        }
    }
}
