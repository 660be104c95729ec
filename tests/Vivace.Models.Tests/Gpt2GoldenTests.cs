using Vivace.Cpu;
using Vivace.Formats.Safetensors;
using Vivace.Models.Decoders;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Models.Tests;

/// <summary>
/// The GPT-2 decoder's plain forward pass (no KV cache) reproduces the logits transformers computed for the same
/// checkpoint (../shared/goldens) on a left-padded batch: every non-padding position within 1e-4 of the largest magnitude.
/// transformers' GPT-2 forward (no explicit position_ids) uses positions 0..seq-1 even on left-padded rows, so the
/// goldens match <see cref="Gpt2Model.PositionMode.Arange"/>; mask-derived positions (what generate() passes) differ.
/// </summary>
public class Gpt2GoldenTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("gpt2-small", Gpt2Model.PositionMode.Arange)]
    [InlineData("gpt2-wide", Gpt2Model.PositionMode.Arange)]
    public void LogitsMatchTransformers(string name, Gpt2Model.PositionMode mode)
    {
        string dir = SharedData.Require("goldens", name);
        Gpt2Model model = Gpt2Model.Load(dir, CpuOps.Default);
        model.Positions = mode;
        using var goldens = SafetensorsFile.Open(Path.Combine(dir, "goldens.safetensors"));
        Tensor ids = goldens.GetRaw("input_ids");
        int batch = ids.Shape[0], seq = ids.Shape[1];
        long[] mask = goldens.GetRaw("attention_mask").Span<long>().ToArray();
        Assert.Contains(0L, mask); // the batch really has (left) padding

        Tensor logits = model.Forward(batch, seq, ids.Span<long>(), mask);

        Assert.Equal(new Shape(batch, seq, model.Config.VocabSize), logits.Shape);
        ReadOnlySpan<float> expected = goldens.Get("logits").AsSpan();
        ReadOnlySpan<float> actual = logits.AsSpan();
        var (worst, scale) = GoldenTests.AssertClose(expected, actual, mask, model.Config.VocabSize, "logits");
        output.WriteLine($"{name} ({mode}): max abs diff {worst}, largest |logit| {scale}");
    }

    [Fact]
    public void PositionIdsArangeOrFollowTheMask()
    {
        long[] mask = [0, 0, 1, 1, 1, 1, 1, 1];
        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 3], Gpt2Model.PositionIds(2, 4, mask, Gpt2Model.PositionMode.Arange));
        Assert.Equal([0, 0, 0, 1, 0, 1, 2, 3], Gpt2Model.PositionIds(2, 4, mask, Gpt2Model.PositionMode.FromMask));
    }
}
