using Vivace.Cpu;
using Vivace.Formats.Safetensors;
using Vivace.Models.Decoders;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Models.Tests;

/// <summary>
/// Every decoder's plain forward pass reproduces the logits transformers computed for the same checkpoint
/// (../shared/goldens) on a left-padded batch: every non-padding position within 1e-4 of the largest magnitude.
/// (GPT-2's goldens use positions 0..seq-1, its plain forward's default; see <see cref="Gpt2GoldenTests"/>.)
/// </summary>
public class DecoderGoldenTests(Xunit.Abstractions.ITestOutputHelper output)
{
    public static TheoryData<string> Decoders => new(
        "llama-small", "llama-wide", "mistral-small", "qwen2-small", "phi3-small", "gemma-small", "gpt2-small", "gpt2-wide");

    /// <summary>Llama with each rope scaling (head_dim 16, original context 8, so the scaled bands really engage).</summary>
    public static TheoryData<string> RopeScaled => new(
        "llama-rope-linear", "llama-rope-dynamic", "llama-rope-llama3", "llama-rope-yarn", "llama-rope-longrope");

    public static TheoryData<string> AllDecoders => new([.. Decoders, .. RopeScaled]);

    [SkippableTheory]
    [MemberData(nameof(AllDecoders))]
    public void LogitsMatchTransformers(string name)
    {
        string dir = SharedData.Require("goldens", name);
        ICausalLM model = CausalLMLoader.Load(dir, CpuOps.Default);
        using var goldens = SafetensorsFile.Open(Path.Combine(dir, "goldens.safetensors"));
        Tensor ids = goldens.GetRaw("input_ids");
        int batch = ids.Shape[0], seq = ids.Shape[1];
        long[] mask = goldens.GetRaw("attention_mask").Span<long>().ToArray();
        Assert.Contains(0L, mask); // the batch really has (left) padding

        Tensor logits = model.Forward(batch, seq, ids.Span<long>(), mask);

        Assert.Equal(new Shape(batch, seq, model.VocabSize), logits.Shape);
        ReadOnlySpan<float> expected = goldens.Get("logits").AsSpan();
        ReadOnlySpan<float> actual = logits.AsSpan();
        var (worst, scale) = GoldenTests.AssertClose(expected, actual, mask, model.VocabSize, "logits");
        output.WriteLine($"{name}: max abs diff {worst}, largest |logit| {scale}");
    }

    [Fact]
    public void PositionsFollowTheMaskForLeftPadding()
    {
        int[] p = LlamaModel.PositionsFromMask(2, 4, [0, 0, 1, 1, 1, 1, 1, 1]);
        Assert.Equal([0, 0, 0, 1, 0, 1, 2, 3], p);
    }
}
