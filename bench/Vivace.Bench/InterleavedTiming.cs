using System.Diagnostics;

namespace Vivace.Bench;

/// <summary>
/// Sides timed in rounds that call each once, in turn, so drift in a shared machine's speed falls on all of them alike
/// (only for sides that leave no threads spinning after a call: see the embed benchmark for ONNX Runtime's).
/// </summary>
internal static class InterleavedTiming
{
    /// <summary>Median seconds per side over at least <paramref name="minRounds"/> rounds, then more while the budget and
    /// <paramref name="maxRounds"/> allow; each side is warmed up three times first.</summary>
    public static double[] MedianSeconds(IReadOnlyList<Action> sides, int minRounds, TimeSpan budget, int maxRounds)
    {
        foreach (Action side in sides) for (int i = 0; i < 3; i++) side();
        var times = sides.Select(_ => new List<double>()).ToArray();
        var total = Stopwatch.StartNew();
        while (times[0].Count < minRounds || (total.Elapsed < budget && times[0].Count < maxRounds))
            for (int s = 0; s < sides.Count; s++)
            {
                long start = Stopwatch.GetTimestamp();
                sides[s]();
                times[s].Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        return [.. times.Select(t => { t.Sort(); return t[t.Count / 2]; })];
    }
}
