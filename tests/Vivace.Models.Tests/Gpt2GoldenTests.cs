using Vivace.Cpu;
using Vivace.Formats.Safetensors;
using Vivace.Models.Decoders;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Models.Tests;

/// <summary>
/// GPT-2's positions (its logits against the goldens are in <see cref="DecoderGoldenTests"/>). transformers' GPT-2
/// forward (no explicit position_ids) uses positions 0..seq-1 even on left-padded rows, so the goldens match <see cref="Gpt2Model.PositionMode.Arange"/>; mask-derived positions (what generate() passes) differ.
/// </summary>
public class Gpt2GoldenTests
{
    [Fact]
    public void PositionIdsArangeOrFollowTheMask()
    {
        long[] mask = [0, 0, 1, 1, 1, 1, 1, 1];
        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 3], Gpt2Model.PositionIds(2, 4, mask, Gpt2Model.PositionMode.Arange));
        Assert.Equal([0, 0, 0, 1, 0, 1, 2, 3], Gpt2Model.PositionIds(2, 4, mask, Gpt2Model.PositionMode.FromMask));
    }
}
