using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>The activation of a decoder's gated MLP: SiLU (SwiGLU: Llama, Mistral, Qwen2, Phi-3) or GELU-tanh (Gemma).</summary>
public enum GateActivation
{
    Silu,
    GeluTanh,
}

/// <summary>
/// The gated MLP's middle step on a fused <c>[rows, 2·inner]</c> gate|up projection: <c>out = act(gate) · up</c>.
/// Scalar; the CPU acceleration work fuses it into the GEMM epilogue.
/// </summary>
internal static class GatedActivation
{
    public static void Apply(Tensor gateUp, Tensor output, int inner, GateActivation activation)
    {
        ReadOnlySpan<float> gu = gateUp.AsSpan();
        Span<float> o = output.AsSpan();
        int rows = gu.Length / (2 * inner);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> gate = gu.Slice(r * 2 * inner, inner), up = gu.Slice(r * 2 * inner + inner, inner);
            Span<float> row = o.Slice(r * inner, inner);
            if (activation == GateActivation.Silu)
                for (int i = 0; i < inner; i++) row[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
            else
                for (int i = 0; i < inner; i++)
                {
                    // torch's gelu(approximate="tanh"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
                    float x = gate[i];
                    row[i] = 0.5f * x * (1f + MathF.Tanh(0.7978845608028654f * (x + 0.044715f * x * x * x))) * up[i];
                }
        }
    }
}
