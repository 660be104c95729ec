using Vivace.Tensors;

namespace Vivace.Cpu;

/// <summary>The decoder's fused row ops: residual add + RMSNorm, and the gated MLP's act(gate)·up.</summary>
public sealed unsafe partial class CpuOps
{
    public void RmsNorm(Tensor input, Tensor? residual, Tensor weight, float epsilon, Tensor output, Tensor? sum = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(output);
        int features = CheckRowNormOperands("RMS norm", input, residual, output, sum);
        RequireF32Contiguous(weight, nameof(weight));
        if (weight.ElementCount != features)
            throw new ArgumentException($"RMS norm weight {weight.Shape} must hold {features} values (the last axis of {input.Shape})", nameof(weight));
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be >= 0");
        int rows = features == 0 ? 0 : checked((int)(input.ElementCount / features));
        fixed (float* pi = input.AsSpan())
        fixed (float* pr = residual is null ? default : residual.AsSpan())
        fixed (float* pw = weight.AsSpan())
        fixed (float* po = output.AsSpan())
        fixed (float* ps = sum is null ? default : sum.AsSpan())
        {
            var work = new RmsNormWork
            {
                Path = Path, Input = pi, Residual = residual is null ? null : pr, Weight = pw, Output = po, Sum = sum is null ? null : ps,
                Epsilon = epsilon, Features = features, Rows = rows,
                RowsPerItem = Math.Max(1, ElementChunk / Math.Max(1, features)),
            };
            int items = (rows + work.RowsPerItem - 1) / work.RowsPerItem;
            RunParallel((long)rows * features, items, work);
        }
    }

    public void GatedActivation(Tensor gateUp, Tensor output, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(gateUp);
        ArgumentNullException.ThrowIfNull(output);
        RequireF32Matrix(gateUp, nameof(gateUp));
        RequireF32Matrix(output, nameof(output));
        RequireKnownActivation(activation);
        int rows = output.Shape[0], inner = output.Shape[1];
        if (gateUp.Shape != new Shape(rows, 2 * inner))
            throw new ArgumentException($"gate|up must be [{rows}, {2 * inner}] for output {output.Shape}, got {gateUp.Shape}", nameof(gateUp));
        // Rows go to different threads: one row's output must not land on another's gate or up.
        if (rows > 0 && inner > 0 && gateUp.AsSpan().Overlaps(output.AsSpan()))
            throw new ArgumentException($"gated activation output {output.Shape} overlaps its input {gateUp.Shape}", nameof(output));
        fixed (float* pg = gateUp.AsSpan())
        fixed (float* po = output.AsSpan())
        {
            var work = new GatedWork
            {
                Path = Path, GateUp = pg, Output = po, Inner = inner, Rows = rows, Activation = activation,
                RowsPerItem = Math.Max(1, ElementChunk / Math.Max(1, inner)),
            };
            int items = (rows + work.RowsPerItem - 1) / work.RowsPerItem;
            RunParallel((long)rows * inner, items, work);
        }
    }

    private struct RmsNormWork : IParallelWork
    {
        public KernelPath Path;
        public float* Input, Residual, Weight, Output, Sum;
        public float Epsilon;
        public int Features, Rows, RowsPerItem;

        public readonly void Execute(int index)
        {
            // Locals out of fields before the row loop.
            KernelPath path = Path;
            float* input = Input, residual = Residual, weight = Weight, output = Output, sum = Sum;
            float epsilon = Epsilon;
            int n = Features, end = Math.Min(Rows, (index + 1) * RowsPerItem);
            for (int r = index * RowsPerItem; r < end; r++)
            {
                nint offset = (nint)r * n;
                RmsNormKernel.Row(path, input + offset, residual == null ? null : residual + offset, weight, epsilon, output + offset,
                    sum == null ? null : sum + offset, n);
            }
        }
    }

    private struct GatedWork : IParallelWork
    {
        public KernelPath Path;
        public float* GateUp, Output;
        public int Inner, Rows, RowsPerItem;
        public Activation Activation;

        public readonly void Execute(int index)
        {
            KernelPath path = Path;
            int n = Inner, end = Math.Min(Rows, (index + 1) * RowsPerItem);
            for (int r = index * RowsPerItem; r < end; r++)
            {
                float* gate = GateUp + (nint)r * 2 * n;
                GatedActivationKernel.Row(path, gate, gate + n, Output + (nint)r * n, n, Activation);
            }
        }
    }
}
