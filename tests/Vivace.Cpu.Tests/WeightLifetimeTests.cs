using System.Runtime.CompilerServices;
using Vivace.Tensors;

namespace Vivace.Cpu.Tests;

/// <summary>
/// Kernels read prepared weights through raw pointers into pinned arrays. A weight the caller never touches again after
/// <see cref="CpuOps.Linear"/> (the usual test pattern: <c>ops.Linear(x, ops.PrepareLinear(w, b), y)</c>) must stay alive
/// until the call returns, even while the collector runs on another thread. Without the guard this crashed the test host
/// about once in a dozen runs of the kernel tests (an access violation inside the GEMM tile).
/// </summary>
public class WeightLifetimeTests
{
    [Fact]
    public void AWeightUsedOnlyByThisCallSurvivesCollectionsDuringIt()
    {
        using var ops = new CpuOps(2);
        var x = Tensor.FromArray(Reference.Random(64 * 512, 1), 64, 512);
        var expected = Tensor.Zeros(64, 256);
        ops.Linear(x, PrepareFresh(ops), expected);
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // A full collection frees a dead weight's pinned panels; new pinned arrays full of NaN then take their place.
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                for (int i = 0; i < 4; i++) GC.AllocateArray<float>(256 * 512 + 16, pinned: true).AsSpan().Fill(float.NaN);
            }
        });
        try
        {
            for (int round = 0; round < 100; round++)
            {
                var y = Tensor.Zeros(64, 256);
                ops.Linear(x, PrepareFresh(ops), y);
                Assert.Equal(expected.AsSpan().ToArray(), y.AsSpan().ToArray());
            }
        }
        finally
        {
            stop.Cancel();
            collector.Wait();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ILinearWeight PrepareFresh(CpuOps ops) =>
        ops.PrepareLinear(Tensor.FromArray(Reference.Random(256 * 512, 2), 256, 512), Tensor.FromArray(Reference.Random(256, 3), 256));
}
