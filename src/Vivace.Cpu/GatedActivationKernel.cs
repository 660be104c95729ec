using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>
/// A gated MLP's <c>out = act(gate) · up</c> over one row of a fused gate|up projection, in one pass: both halves are
/// read once and the product written once (no intermediate activated copy of the gate).
/// </summary>
[SkipLocalsInit]
internal static unsafe class GatedActivationKernel
{
    /// <summary>output[i] = act(gate[i])·up[i] for i &lt; <paramref name="n"/>.</summary>
    public static void Row(KernelPath path, float* gate, float* up, float* output, int n, Activation activation)
    {
        switch (activation)
        {
            case Activation.None: Row<IdentityOp>(path, gate, up, output, n); return;
            case Activation.Gelu: Row<GeluErfOp>(path, gate, up, output, n); return;
            case Activation.GeluTanh: Row<GeluTanhOp>(path, gate, up, output, n); return;
            case Activation.Relu: Row<ReluOp>(path, gate, up, output, n); return;
            case Activation.Tanh: Row<TanhOp>(path, gate, up, output, n); return;
            case Activation.Silu: Row<SiluOp>(path, gate, up, output, n); return;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation");
        }
    }

    private static void Row<TOp>(KernelPath path, float* gate, float* up, float* output, int n) where TOp : IUnaryOp
    {
        switch (path)
        {
            case KernelPath.Vector512: Row<TOp, Lanes512, Vector512<float>>(gate, up, output, n); break;
            case KernelPath.Vector256: Row<TOp, Lanes256, Vector256<float>>(gate, up, output, n); break;
            case KernelPath.Vector128: Row<TOp, Lanes128, Vector128<float>>(gate, up, output, n); break;
            default: for (int i = 0; i < n; i++) output[i] = TOp.Apply(gate[i]) * up[i]; break;
        }
    }

    private static void Row<TOp, TL, TV>(float* gate, float* up, float* output, int n)
        where TOp : IUnaryOp where TL : ISimdLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        int i = 0;
        // Two vectors per step: two independent dependency chains through the exp/tanh polynomials.
        for (; i <= n - 2 * lanes; i += 2 * lanes)
        {
            TV a = TL.Multiply(TOp.Apply<TL, TV>(TL.Load(gate + i)), TL.Load(up + i));
            TV b = TL.Multiply(TOp.Apply<TL, TV>(TL.Load(gate + i + lanes)), TL.Load(up + i + lanes));
            TL.Store(output + i, a);
            TL.Store(output + i + lanes, b);
        }
        for (; i <= n - lanes; i += lanes) TL.Store(output + i, TL.Multiply(TOp.Apply<TL, TV>(TL.Load(gate + i)), TL.Load(up + i)));
        // Tail (< one vector): the scalar twin of the same formula.
        for (; i < n; i++) output[i] = TOp.Apply(gate[i]) * up[i];
    }
}
