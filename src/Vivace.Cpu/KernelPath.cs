using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vivace.Cpu;

/// <summary>The instruction-set paths a kernel exists in, widest last.</summary>
public enum KernelPath
{
    Scalar,
    Vector128,
    /// <summary>256-bit lanes; taken only with AVX2 and FMA on x86 (or any accelerated 256-bit ISA elsewhere).</summary>
    Vector256,
    Vector512,
}

/// <summary>Which paths this machine runs, and which one the kernels take by default.</summary>
public static class KernelPaths
{
    /// <summary>Environment variable naming a path (e.g. <c>Vector256</c>) that <see cref="Best"/> then returns, when supported.</summary>
    public const string ForcePathVariable = "VIVACE_CPU_PATH";

    /// <summary>
    /// The widest supported path: what CpuOps uses. DOTNET_EnableAVX512F=0 / DOTNET_EnableAVX2=0 lower it, and so does
    /// <see cref="ForcePathVariable"/> (ignored when it names an unknown or unsupported path).
    /// </summary>
    public static KernelPath Best { get; } = Pick();

    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Vector128 => Vector128.IsHardwareAccelerated,
        KernelPath.Vector256 => Vector256.IsHardwareAccelerated && (!X86Base.IsSupported || (Avx2.IsSupported && Fma.IsSupported)),
        KernelPath.Vector512 => Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>Every path this machine supports, scalar first.</summary>
    public static IReadOnlyList<KernelPath> Supported { get; } =
        Enum.GetValues<KernelPath>().Where(IsSupported).ToArray();

    private static KernelPath Pick()
    {
        if (Enum.TryParse(Environment.GetEnvironmentVariable(ForcePathVariable), ignoreCase: true, out KernelPath forced)
            && Enum.IsDefined(forced) && IsSupported(forced))
            return forced;
        KernelPath best = KernelPath.Scalar;
        foreach (KernelPath p in Enum.GetValues<KernelPath>())
            if (IsSupported(p)) best = p;
        return best;
    }
}
