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

    /// <summary>A linear layer <c>name.weight [out, in]</c> + <c>name.bias [out]</c>, prepared for the backend.</summary>
    public ILinearWeight Linear(string name, int inFeatures, int outFeatures, bool bias = true)
    {
        WeightScope s = Sub(name);
        Tensor w = s.Get("weight", outFeatures, inFeatures);
        Tensor? b = bias ? s.Get("bias", outFeatures) : null;
        return Ops.PrepareLinear(w, b);
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
        var weight = new float[(long)outTotal * inFeatures];
        float[]? biases = bias ? new float[outTotal] : null;
        int row = 0;
        foreach ((string name, int outFeatures) in parts)
        {
            WeightScope s = Sub(name);
            s.Get("weight", outFeatures, inFeatures).AsSpan().CopyTo(weight.AsSpan((int)((long)row * inFeatures)));
            if (biases != null) s.Get("bias", outFeatures).AsSpan().CopyTo(biases.AsSpan(row));
            row += outFeatures;
        }
        string fused = NameOf("{" + string.Join(",", parts.Select(p => p.Name)) + "}");
        return Ops.PrepareLinear(Tensor.FromArray(weight, outTotal, inFeatures).WithName(fused + ".weight"),
            biases is null ? null : Tensor.FromArray(biases, outTotal).WithName(fused + ".bias"));
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
