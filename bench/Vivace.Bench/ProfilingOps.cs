using System.Diagnostics;
using Vivace.Tensors;

namespace Vivace.Bench;

/// <summary>Wraps a backend and adds up the time spent in each operation, to see where a forward pass goes.</summary>
public sealed class ProfilingOps(ITensorOps inner) : ITensorOps
{
    private readonly Dictionary<string, (double Ms, long Calls)> _totals = [];

    private T Time<T>(string name, Func<T> f)
    {
        long start = Stopwatch.GetTimestamp();
        T result = f();
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        _totals[name] = _totals.TryGetValue(name, out var t) ? (t.Ms + ms, t.Calls + 1) : (ms, 1);
        return result;
    }

    private void Time(string name, Action f) => Time(name, () => { f(); return 0; });

    public void Reset() => _totals.Clear();

    public string Report(int runs) => string.Join("\n", _totals.OrderByDescending(kv => kv.Value.Ms)
        .Select(kv => $"  {kv.Key,-22} {kv.Value.Ms / runs,8:F3} ms/run  {kv.Value.Calls / runs,5} calls/run"));

    public ILinearWeight PrepareLinear(Tensor weight, Tensor? bias) => inner.PrepareLinear(weight, bias);
    public ILinearWeight PrepareLinear(QuantizedMatrix weight, Tensor? bias) => inner.PrepareLinear(weight, bias);
    public void Linear(Tensor input, ILinearWeight weight, Tensor output, Activation activation = Activation.None) =>
        Time($"Linear {weight.InFeatures}x{weight.OutFeatures}{(activation == Activation.None ? "" : "+" + activation)}", () => inner.Linear(input, weight, output, activation));
    public void LayerNorm(Tensor input, Tensor? residual, Tensor gamma, Tensor beta, float epsilon, Tensor output, Tensor? sum = null) =>
        Time("LayerNorm", () => inner.LayerNorm(input, residual, gamma, beta, epsilon, output, sum));
    public void RmsNorm(Tensor input, Tensor? residual, Tensor weight, float epsilon, Tensor output, Tensor? sum = null) =>
        Time("RmsNorm", () => inner.RmsNorm(input, residual, weight, epsilon, output, sum));
    public void GatedActivation(Tensor gateUp, Tensor output, Activation activation) =>
        Time($"GatedActivation {activation}", () => inner.GatedActivation(gateUp, output, activation));
    public void Activate(Tensor x, Activation activation) => Time($"Activate {activation}", () => inner.Activate(x, activation));
    public void Add(Tensor x, Tensor addend) => Time("Add", () => inner.Add(x, addend));
    public void Gather(Tensor table, ReadOnlySpan<int> ids, Tensor output, bool accumulate = false)
    {
        long start = Stopwatch.GetTimestamp();
        inner.Gather(table, ids, output, accumulate);
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        _totals["Gather"] = _totals.TryGetValue("Gather", out var t) ? (t.Ms + ms, t.Calls + 1) : (ms, 1);
    }
    public void CachedAttention(ReadOnlySpan<float> query, int queryStride, ReadOnlySpan<float> keys, ReadOnlySpan<float> values,
        ReadOnlySpan<long> mask, Span<float> output, CachedAttentionShape shape)
    {
        long start = Stopwatch.GetTimestamp();
        inner.CachedAttention(query, queryStride, keys, values, mask, output, shape);
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        _totals["CachedAttention"] = _totals.TryGetValue("CachedAttention", out var t) ? (t.Ms + ms, t.Calls + 1) : (ms, 1);
    }
    public void Attention(Tensor query, Tensor key, Tensor value, Tensor output, RaggedBatch batch, int heads, float scale, IReadOnlyList<Tensor>? bias = null) =>
        Time("Attention", () => inner.Attention(query, key, value, output, batch, heads, scale, bias));
    public void FusedAttention(Tensor queryKeyValue, Tensor output, RaggedBatch batch, int heads, float scale, IReadOnlyList<Tensor>? bias = null) =>
        Time("Attention", () => inner.FusedAttention(queryKeyValue, output, batch, heads, scale, bias));
}
