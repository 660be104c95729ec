using Vivace.Formats;
using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>
/// A path into a checkpoint's weights, like a module in the HF module tree: <c>scope.Sub("encoder").Sub("layer.0")</c>
/// reads <c>encoder.layer.0.*</c>. Modules build themselves from a scope, so weight names fall out of the structure.
/// </summary>
public sealed class WeightScope
{
    private readonly IWeightSource _source;
    private readonly string _prefix;

    public WeightScope(IWeightSource source, string prefix = "")
    {
        _source = source;
        _prefix = prefix;
    }

    public ITensorOps Ops { get; init; } = null!;

    public WeightScope Sub(string name) => new(_source, _prefix + name + ".") { Ops = Ops };

    public string NameOf(string name) => _prefix + name;

    public bool Contains(string name) => _source.Contains(_prefix + name);

    /// <summary>A weight as f32; a missing one is a <see cref="ModelFormatException"/> naming it.</summary>
    public Tensor Get(string name, params int[] expectedShape)
    {
        string full = _prefix + name;
        if (!_source.Contains(full))
            throw new ModelFormatException(_source.Describe(), full, "weight is missing");
        Tensor t = _source.Get(full).ToF32();
        if (expectedShape.Length > 0 && t.Shape != new Shape(expectedShape))
            throw new ModelFormatException(_source.Describe(), full,
                $"has shape {t.Shape}, expected {new Shape(expectedShape)} from config.json");
        return t;
    }

    /// <summary>
    /// A weight as the file's ggml blocks when it stores it block-quantized (GGUF Q8_0/Q4_0), shape-checked; null when
    /// it is stored otherwise (then <see cref="Get"/> it).
    /// </summary>
    public QuantizedMatrix? GetQuantized(string name, int rows, int columns)
    {
        string full = _prefix + name;
        if (_source.GetQuantized(full) is not { } q) return null;
        if (q.Rows != rows || q.Columns != columns)
            throw new ModelFormatException(_source.Describe(), full, $"has shape [{q.Rows}, {q.Columns}], expected [{rows}, {columns}] from the config");
        return q;
    }

    /// <summary>
    /// A linear layer <c>name.weight [out, in]</c> + <c>name.bias [out]</c>, prepared for the backend; a block-quantized
    /// weight stays in its blocks.
    /// </summary>
    public ILinearWeight Linear(string name, int inFeatures, int outFeatures, bool bias = true)
    {
        WeightScope s = Sub(name);
        Tensor? b = bias ? s.Get("bias", outFeatures) : null;
        if (s.GetQuantized("weight", outFeatures, inFeatures) is { } quantized) return Ops.PrepareLinear(quantized, b);
        return Ops.PrepareLinear(s.GetStored("weight", outFeatures, inFeatures), b);
    }

    /// <summary>
    /// A weight as f32, or as its raw bf16 values when the file stores it in bf16 (a backend can keep those as they are:
    /// widening bf16 to f32 is exact).
    /// </summary>
    public Tensor GetStored(string name, params int[] expectedShape)
    {
        string full = _prefix + name;
        if (!_source.Contains(full) || _source.GetInfo(full).DType != DType.BF16) return Get(name, expectedShape);
        Tensor raw = _source.GetRaw(full);
        if (raw.DType != DType.BF16) return Get(name, expectedShape);
        if (expectedShape.Length > 0 && raw.Shape != new Shape(expectedShape))
            throw new ModelFormatException(_source.Describe(), full, $"has shape {raw.Shape}, expected {new Shape(expectedShape)} from config.json");
        return raw.WithName(full);
    }

    /// <summary>
    /// Several linear layers with the same input fused into one, their outputs side by side in the order given
    /// (<c>[q | k | v]</c> for a fused QKV projection): one pass over the input instead of several.
    /// </summary>
    public ILinearWeight FusedLinear(string[] names, int inFeatures, int outFeaturesEach) =>
        FusedLinear(names.Select(n => (n, outFeaturesEach)).ToArray(), inFeatures, bias: true);

    /// <summary>As above, for parts of different widths (grouped-query attention's <c>[q | k | v]</c>), with or without biases.</summary>
    public ILinearWeight FusedLinear((string Name, int OutFeatures)[] parts, int inFeatures, bool bias)
    {
        int outTotal = parts.Sum(p => p.OutFeatures);
        string fused = NameOf("{" + string.Join(",", parts.Select(p => p.Name)) + "}");
        float[]? biases = bias ? new float[outTotal] : null;
        if (biases != null)
        {
            int at = 0;
            foreach ((string name, int outFeatures) in parts)
            {
                Sub(name).Get("bias", outFeatures).AsSpan().CopyTo(biases.AsSpan(at));
                at += outFeatures;
            }
        }
        Tensor? fusedBias = biases is null ? null : Tensor.FromArray(biases, outTotal).WithName(fused + ".bias");
        // Block-quantized parts of one format stack row-wise as they are (rows are independent); a mix goes through f32.
        var quantized = parts.Select(p => Sub(p.Name).GetQuantized("weight", p.OutFeatures, inFeatures)).ToArray();
        if (quantized.All(q => q != null) && quantized.Select(q => q!.Format).Distinct().Count() == 1)
            return Ops.PrepareLinear(QuantizedMatrix.ConcatRows(quantized!, fused + ".weight"), fusedBias);
        return FusedLinearF32(parts, inFeatures, outTotal, fused, fusedBias);
    }

    private ILinearWeight FusedLinearF32((string Name, int OutFeatures)[] parts, int inFeatures, int outTotal, string fused, Tensor? fusedBias)
    {
        Tensor[] stored = parts.Select(p => Sub(p.Name).GetStored("weight", p.OutFeatures, inFeatures)).ToArray();
        if (stored.All(t => t.DType == DType.BF16))
        {
            // All bf16: stacked as bf16 (see GetStored).
            var raw = new ushort[(long)outTotal * inFeatures];
            long at = 0;
            foreach (Tensor t in stored)
            {
                t.Span<ushort>().CopyTo(raw.AsSpan((int)at));
                at += t.ElementCount;
            }
            return Ops.PrepareLinear(Tensor.FromArray(raw, outTotal, inFeatures).WithName(fused + ".weight"), fusedBias);
        }
        var weight = new float[(long)outTotal * inFeatures];
        long offset = 0;
        foreach (Tensor t in stored)
        {
            t.ToF32().AsSpan().CopyTo(weight.AsSpan((int)offset));
            offset += t.ElementCount;
        }
        return Ops.PrepareLinear(Tensor.FromArray(weight, outTotal, inFeatures).WithName(fused + ".weight"), fusedBias);
    }

    /// <summary>A LayerNorm's <c>weight</c> and <c>bias</c>.</summary>
    public LayerNormWeights LayerNorm(string name, int size, float epsilon)
    {
        WeightScope s = Sub(name);
        return new LayerNormWeights(s.Get("weight", size), s.Get("bias", size), epsilon);
    }
}

/// <summary>A LayerNorm's parameters.</summary>
public sealed record LayerNormWeights(Tensor Gamma, Tensor Beta, float Epsilon);
