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

    /// <summary>
    /// Whether vdpbf16ps outruns f32 FMAs on this CPU, so bf16 layers should take the dot-product kernel rather than
    /// widening bf16 weights for the f32 tiles. AMD's Zen 4/5 run 512-bit FMAs at half rate (two 256-bit pipes) and the
    /// bf16 dot products on both; Intel's Sapphire Rapids runs 512-bit FMAs on two ports and vdpbf16ps on one, where the
    /// dot path measured 0.6× f32 (bench/results/2026-12-07-gemm-encoder-sapphire-rapids-2t.md). So: AMD CPUs.
    /// </summary>
    public static bool PrefersBf16DotProducts { get; } = Avx512Bf16 && IsAmd();

    private static bool IsAmd()
    {
        // CPUID leaf 0: the vendor string in EBX, EDX, ECX ("Auth" "enti" "cAMD").
        (int _, int ebx, int ecx, int edx) = X86Base.CpuId(0, 0);
        return ebx == 0x68747541 && edx == 0x69746E65 && ecx == 0x444D4163;
    }
}
