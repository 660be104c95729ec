using Vivace.Tensors;

namespace Vivace.Cpu;

public sealed partial class CpuOps
{
    private void LinearCore(ReadOnlySpan<float> x, PackedLinearWeight w, Span<float> y, int rows, Activation activation)
    {
        int n = w.OutFeatures, k = w.InFeatures;
        float[] weight = w.Weight;
        float[]? bias = w.Bias;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * k, k);
            for (int j = 0; j < n; j++)
            {
                float sum = bias is null ? 0f : bias[j];
                ReadOnlySpan<float> wj = weight.AsSpan(j * k, k);
                for (int i = 0; i < k; i++) sum += xr[i] * wj[i];
                y[r * n + j] = sum;
            }
        }
        ActivateCore(y.Slice(0, rows * n), activation);
    }

    private void LayerNormCore(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, bool hasResidual,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float epsilon, Span<float> output, int rows, int features)
    {
        float[] sum = new float[features];
        for (int r = 0; r < rows; r++)
        {
            int o = r * features;
            float mean = 0;
            for (int i = 0; i < features; i++)
            {
                sum[i] = input[o + i] + (hasResidual ? residual[o + i] : 0f);
                mean += sum[i];
            }
            mean /= features;
            float variance = 0;
            for (int i = 0; i < features; i++) variance += (sum[i] - mean) * (sum[i] - mean);
            variance /= features;
            float inv = 1f / MathF.Sqrt(variance + epsilon);
            for (int i = 0; i < features; i++) output[o + i] = (sum[i] - mean) * inv * gamma[i] + beta[i];
        }
    }

    private void ActivateCore(Span<float> x, Activation activation)
    {
        switch (activation)
        {
            case Activation.None: return;
            case Activation.Gelu: for (int i = 0; i < x.Length; i++) x[i] = 0.5f * x[i] * (1f + (float)ErfDouble(x[i] / Math.Sqrt(2))); return;
            case Activation.GeluTanh:
                for (int i = 0; i < x.Length; i++)
                {
                    double v = x[i];
                    x[i] = (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
                }
                return;
            case Activation.Relu: for (int i = 0; i < x.Length; i++) x[i] = MathF.Max(x[i], 0f); return;
            case Activation.Tanh: for (int i = 0; i < x.Length; i++) x[i] = MathF.Tanh(x[i]); return;
        }
    }

    /// <summary>erf via Abramowitz–Stegun 7.1.26 is too coarse; use a series/continued fraction in double.</summary>
    internal static double ErfDouble(double x)
    {
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            // Maclaurin series: erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)).
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = sum * 2 / Math.Sqrt(Math.PI);
        }
        else
        {
            // Continued fraction for erfc, accurate for large |x|.
            double f = 0;
            for (int n = 60; n >= 1; n--) f = n / 2.0 / (ax + f);
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        }
        return x < 0 ? -r : r;
    }

    private static void AddCore(Span<float> x, ReadOnlySpan<float> addend)
    {
        for (int i = 0; i < x.Length; i++) x[i] += addend[i];
    }

    private static void GatherCore(ReadOnlySpan<float> table, ReadOnlySpan<int> ids, Span<float> output, int dim, bool accumulate)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            ReadOnlySpan<float> src = table.Slice(ids[i] * dim, dim);
            Span<float> dst = output.Slice(i * dim, dim);
            if (!accumulate) src.CopyTo(dst);
            else for (int j = 0; j < dim; j++) dst[j] += src[j];
        }
    }

    private void AttentionCore(Tensor query, Tensor key, Tensor value, Tensor output, RaggedBatch batch, int heads,
        int headDim, float scale, IReadOnlyList<Tensor>? bias)
    {
        ReadOnlySpan<float> q = query.AsSpan(), k = key.AsSpan(), v = value.AsSpan();
        Span<float> o = output.AsSpan();
        int width = heads * headDim;
        float[] scores = new float[Math.Max(1, batch.MaxLength)];
        for (int s = 0; s < batch.Count; s++)
        {
            int start = batch.Start(s), len = batch.Length(s);
            ReadOnlySpan<float> b = bias is null ? default : bias[s].AsSpan();
            for (int h = 0; h < heads; h++)
            {
                int col = h * headDim;
                for (int i = 0; i < len; i++)
                {
                    ReadOnlySpan<float> qi = q.Slice((start + i) * width + col, headDim);
                    float max = float.NegativeInfinity;
                    for (int j = 0; j < len; j++)
                    {
                        ReadOnlySpan<float> kj = k.Slice((start + j) * width + col, headDim);
                        float dot = 0;
                        for (int d = 0; d < headDim; d++) dot += qi[d] * kj[d];
                        float sc = dot * scale + (bias is null ? 0f : b[(h * len + i) * len + j]);
                        scores[j] = sc;
                        max = MathF.Max(max, sc);
                    }
                    float total = 0;
                    for (int j = 0; j < len; j++) { scores[j] = MathF.Exp(scores[j] - max); total += scores[j]; }
                    Span<float> oi = o.Slice((start + i) * width + col, headDim);
                    oi.Clear();
                    for (int j = 0; j < len; j++)
                    {
                        float p = scores[j] / total;
                        ReadOnlySpan<float> vj = v.Slice((start + j) * width + col, headDim);
                        for (int d = 0; d < headDim; d++) oi[d] += p * vj[d];
                    }
                }
            }
        }
    }
}
