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
    public ILinearWeight FusedLinear(string[] names, int inFeatures, int outFeaturesEach)
    {
        int outTotal = names.Length * outFeaturesEach;
        var weight = new float[(long)outTotal * inFeatures];
        var bias = new float[outTotal];
        for (int i = 0; i < names.Length; i++)
        {
            WeightScope s = Sub(names[i]);
            s.Get("weight", outFeaturesEach, inFeatures).AsSpan().CopyTo(weight.AsSpan(i * outFeaturesEach * inFeatures));
            s.Get("bias", outFeaturesEach).AsSpan().CopyTo(bias.AsSpan(i * outFeaturesEach));
        }
        string name = NameOf("{" + string.Join(",", names) + "}");
        return Ops.PrepareLinear(Tensor.FromArray(weight, outTotal, inFeatures).WithName(name + ".weight"),
            Tensor.FromArray(bias, outTotal).WithName(name + ".bias"));
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
