using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

/// <summary>Naive double-precision references the kernels are checked against.</summary>
internal static class Reference
{
    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>y = act(x·Wᵀ + b) with double accumulation; also returns Σ|x·w| per output for tolerances.</summary>
    public static (double[] Y, double[] Magnitude) Linear(float[] x, float[] w, float[]? b, int m, int k, int n, Activation act)
    {
        var y = new double[m * n];
        var mag = new double[m * n];
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                double s = b?[c] ?? 0, a = Math.Abs(b?[c] ?? 0);
                for (int i = 0; i < k; i++)
                {
                    double p = (double)x[r * k + i] * w[c * k + i];
                    s += p;
                    a += Math.Abs(p);
                }
                y[r * n + c] = Activate(s, act);
                mag[r * n + c] = a;
            }
        return (y, mag);
    }

    public static double Activate(double v, Activation act) => act switch
    {
        Activation.None => v,
        Activation.Gelu => 0.5 * v * (1 + Erf(v / Math.Sqrt(2))),
        Activation.GeluTanh => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
        Activation.Relu => Math.Max(v, 0),
        Activation.Tanh => Math.Tanh(v),
        Activation.Silu => v / (1 + Math.Exp(-v)),
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    /// <summary>erf in double: Maclaurin series for small |x|, continued fraction of erfc for large.</summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x), r;
        if (ax < 3)
        {
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-18) break;
            }
            r = sum * 2 / Math.Sqrt(Math.PI);
        }
        else
        {
            double f = 0;
            for (int n = 100; n >= 1; n--) f = n / 2.0 / (ax + f);
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        }
        return x < 0 ? -r : r;
    }

    /// <summary>y = w · (x + res) / sqrt(mean((x + res)²) + eps) per row, in double.</summary>
    public static double[] RmsNorm(float[] x, float[]? res, float[] w, double eps, int rows, int n)
    {
        var y = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            double sq = 0;
            for (int i = 0; i < n; i++) { double v = x[r * n + i] + (double)(res?[r * n + i] ?? 0); sq += v * v; }
            double inv = 1 / Math.Sqrt(sq / n + eps);
            for (int i = 0; i < n; i++) y[r * n + i] = w[i] * ((x[r * n + i] + (double)(res?[r * n + i] ?? 0)) * inv);
        }
        return y;
    }

    public static double[] LayerNorm(float[] x, float[]? res, float[] g, float[] b, double eps, int rows, int n)
    {
        var y = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, v = 0;
            for (int i = 0; i < n; i++) mean += x[r * n + i] + (double)(res?[r * n + i] ?? 0);
            mean /= n;
            for (int i = 0; i < n; i++) { double d = x[r * n + i] + (double)(res?[r * n + i] ?? 0) - mean; v += d * d; }
            v /= n;
            for (int i = 0; i < n; i++)
                y[r * n + i] = (x[r * n + i] + (double)(res?[r * n + i] ?? 0) - mean) / Math.Sqrt(v + eps) * g[i] + b[i];
        }
        return y;
    }

    public static double[] Attention(float[] q, float[] k, float[] v, int[] lengths, int heads, int headDim, float scale, float[][]? bias)
    {
        int width = heads * headDim;
        var o = new double[q.Length];
        int start = 0;
        for (int s = 0; s < lengths.Length; s++)
        {
            int len = lengths[s];
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < len; i++)
                {
                    var sc = new double[len];
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < len; j++)
                    {
                        double d = 0;
                        for (int t = 0; t < headDim; t++) d += (double)q[(start + i) * width + h * headDim + t] * k[(start + j) * width + h * headDim + t];
                        sc[j] = d * scale + (bias?[s][(h * len + i) * len + j] ?? 0);
                        max = Math.Max(max, sc[j]);
                    }
                    double total = 0;
                    for (int j = 0; j < len; j++) { sc[j] = Math.Exp(sc[j] - max); total += sc[j]; }
                    for (int t = 0; t < headDim; t++)
                    {
                        double acc = 0;
                        for (int j = 0; j < len; j++) acc += sc[j] / total * v[(start + j) * width + h * headDim + t];
                        o[(start + i) * width + h * headDim + t] = acc;
                    }
                }
            start += len;
        }
        return o;
    }

    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double absolute, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = absolute + relative * Math.Abs(expected[i]);
            if (!(Math.Abs(expected[i] - actual[i]) <= tol))
                Assert.Fail($"{what}: element {i} expected {expected[i]:R} got {actual[i]:R} (tolerance {tol:G3})");
        }
    }
}
