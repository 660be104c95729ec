using System.Runtime.Intrinsics.X86;

namespace Vivace.Cpu.Jit;

/// <summary>
/// Instruction sets read straight from CPUID, for the ones .NET exposes no intrinsics class for on every CPU that has
/// them: AVX512-VNNI (Zen 4 has it, but not the VEX AVX-VNNI that <c>AvxVnni</c> needs) and AVX512-BF16. The OS must
/// save the 512-bit state, which <see cref="Avx512F.IsSupported"/> already checks (XCR0 via the runtime).
/// Setting <c>VIVACE_NO_JIT=1</c> turns the emitted kernels off (the managed ones run).
/// </summary>
public static class CpuFeatures
{
    private static readonly bool Disabled = Environment.GetEnvironmentVariable("VIVACE_NO_JIT") is "1" or "true";

    /// <summary>AVX-512 F/BW/VL with VNNI (vpdpbusd on zmm), on x64 Linux (the emitted code follows the System V ABI).</summary>
    public static bool Avx512Vnni { get; } = !Disabled && OperatingSystem.IsLinux() && Avx512F.IsSupported && Avx512BW.IsSupported
        && Avx512F.VL.IsSupported && X86Base.IsSupported && ((X86Base.CpuId(7, 0).Ecx >> 11) & 1) == 1;

    /// <summary>AVX512-BF16 (vdpbf16ps), under the same conditions.</summary>
    public static bool Avx512Bf16 { get; } = !Disabled && OperatingSystem.IsLinux() && Avx512F.IsSupported
        && X86Base.IsSupported && ((X86Base.CpuId(7, 1).Eax >> 5) & 1) == 1;
}
