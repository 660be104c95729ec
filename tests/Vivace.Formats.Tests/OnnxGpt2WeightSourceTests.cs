using Vivace.Formats.Onnx;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Formats.Tests;

/// <summary>
/// <see cref="OnnxGpt2WeightSource"/> over onnxruntime-genai's tiny GPT-2 (past_fp32.onnx): every HF GPT-2 name is
/// recovered from the fused graph, deduplicated initializers serve each name that shares them, and the LM head is wteᵀ.
/// </summary>
public class OnnxGpt2WeightSourceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static string TinyGpt2() => SharedData.Require("data", "ort-genai", "tiny-random-gpt2", "past_fp32.onnx");

    [SkippableFact]
    public void EveryHfGpt2NameIsRecovered()
    {
        using var source = OnnxGpt2WeightSource.Open(TinyGpt2());
        var expected = new List<string> { "transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight", "transformer.ln_f.bias", "lm_head.weight" };
        for (int i = 0; i < 5; i++)
            foreach (string m in new[] { "ln_1", "attn.c_attn", "attn.c_proj", "ln_2", "mlp.c_fc", "mlp.c_proj" })
                expected.AddRange([$"transformer.h.{i}.{m}.weight", $"transformer.h.{i}.{m}.bias"]);
        Assert.Equal(expected.Order(), source.Names.Order());

        Assert.Equal(new Shape(32, 96), source.GetInfo("transformer.h.3.attn.c_attn.weight").Shape);
        Assert.Equal(new Shape(96), source.Get("transformer.h.3.attn.c_attn.bias").Shape);
        Assert.Equal(new Shape(128), source.Get("transformer.h.4.mlp.c_fc.bias").Shape);
        Assert.Equal(new Shape(32), source.Get("transformer.h.2.mlp.c_proj.bias").Shape);
        // Deduplicated: the final LayerNorm's gamma is the one initializer every LayerNorm shares.
        Assert.Equal("transformer.h.0.ln_1.weight", source.SourceName("transformer.ln_f.weight"));
        Assert.Equal("transformer.h.0.ln_1.weight", source.SourceName("transformer.h.4.ln_2.weight"));
        Assert.Equal("transformer.h.4.mlp.c_proj.weight", source.SourceName("transformer.h.4.mlp.c_proj.weight"));
        output.WriteLine(source.Describe());
    }

    [SkippableFact]
    public void LmHeadIsTheTransposedMatMulWeightAndEqualsWte()
    {
        using var source = OnnxGpt2WeightSource.Open(TinyGpt2());
        Tensor head = source.Get("lm_head.weight"), wte = source.Get("transformer.wte.weight");
        Assert.Equal(new Shape(1000, 32), source.GetInfo("lm_head.weight").Shape);
        Assert.Equal(wte.Shape, head.Shape);
        Assert.Equal(wte.AsSpan().ToArray(), head.ToF32().AsSpan().ToArray());
    }

    [SkippableFact]
    public void TheAttentionIsCausal()
    {
        // The walk relies on the fused decoder layout; a GPT-2 export's Attention nodes are unidirectional.
        Assert.True(OnnxGpt2WeightSource.IsFusedGpt2(TinyGpt2()));
    }

    [SkippableFact]
    public void AFusedBertIsNotTakenForGpt2()
    {
        string bert = SharedData.Require("data", "onnxruntime-testdata", "bert_toy_optimized.onnx");
        Assert.False(OnnxGpt2WeightSource.IsFusedGpt2(bert));
        Assert.Throws<ModelFormatException>(() => OnnxGpt2WeightSource.Open(bert));
    }
}
