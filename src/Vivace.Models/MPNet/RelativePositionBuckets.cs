namespace Vivace.Models.MPNet;

/// <summary>
/// MPNet's (T5-style) bucketing of relative positions: half the buckets for each direction, exact buckets for
/// small distances, logarithmic ones up to <c>maxDistance</c>.
/// </summary>
public static class RelativePositionBuckets
{
    public static int Bucket(int relativePosition, int numBuckets = 32, int maxDistance = 128)
    {
        int half = numBuckets / 2;
        int n = -relativePosition;
        int bucket = n < 0 ? half : 0;
        n = Math.Abs(n);
        int maxExact = half / 2;
        if (n < maxExact) return bucket + n;
        // transformers computes this in float32 and truncates toward zero.
        float scaled = MathF.Log((float)n / maxExact) / MathF.Log((float)maxDistance / maxExact) * (half - maxExact);
        int large = maxExact + (int)scaled;
        return bucket + Math.Min(large, half - 1);
    }
}
