using Vivace.Tensors;

namespace Vivace.Models.Decoders;

/// <summary>The activation of a decoder's gated MLP: SiLU (SwiGLU: Llama, Mistral, Qwen2, Phi-3) or GELU-tanh (Gemma).</summary>
public enum GateActivation
{
    Silu,
    GeluTanh,
}

/// <summary>The backend activation <see cref="ITensorOps.GatedActivation"/> applies to the gate half.</summary>
internal static class GateActivations
{
    public static Activation ToActivation(this GateActivation gate) => gate switch
    {
        GateActivation.Silu => Activation.Silu,
        // torch's gelu(approximate="tanh"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        GateActivation.GeluTanh => Activation.GeluTanh,
        _ => throw new ArgumentOutOfRangeException(nameof(gate), gate, "unknown gate activation"),
    };
}
