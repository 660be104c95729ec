using Vivace.Cpu.Jit;

namespace Vivace.Cpu.Tests;

/// <summary>
/// The run-time emitted AVX512-VNNI microkernel: the assembler's encodings against bytes a reference assembler
/// produces, and the kernel against its managed definition for several k (skipped where the CPU lacks AVX512-VNNI).
/// </summary>
public class VnniMicroKernelTests
{
    [Fact]
    public void InstructionsEncodeAsTheSdmSays()
    {
        // Each pair: what the assembler emits, and GNU as 2.40's encoding of the same instruction (objdump of
        // `as --64`; memory operands with a 0x40000000 displacement so both use disp32).
        (Action<X64Assembler> Emit, byte[] Expected)[] cases =
        [
            (a => a.Vpxord(0, 0, 0), [0x62, 0xF1, 0x7D, 0x48, 0xEF, 0xC0]),                  // vpxord zmm0, zmm0, zmm0
            (a => a.Vpxord(17, 9, 30), [0x62, 0x81, 0x35, 0x48, 0xEF, 0xCE]),                // vpxord zmm17, zmm9, zmm30
            (a => a.Vpdpbusd(1, 10, 9), [0x62, 0xD2, 0x2D, 0x48, 0x50, 0xC9]),               // vpdpbusd zmm1, zmm10, zmm9
            (a => a.Vdpbf16ps(1, 10, 9), [0x62, 0xD2, 0x2E, 0x48, 0x52, 0xC9]),              // vdpbf16ps zmm1, zmm10, zmm9
            (a => a.Vdpbf16ps(7, 13, 8), [0x62, 0xD2, 0x16, 0x48, 0x52, 0xF8]),              // vdpbf16ps zmm7, zmm13, zmm8
            (a => a.Vdpbf16ps(2, 1, 0), [0x62, 0xF2, 0x76, 0x48, 0x52, 0xD0]),               // vdpbf16ps zmm2, zmm1, zmm0
            (a => a.Vmovdqu32Load(8, Gpr.Rdx, 0x40000000), [0x62, 0x71, 0x7E, 0x48, 0x6F, 0x82, 0, 0, 0, 0x40]), // vmovdqu32 zmm8, [rdx+0x40000000]
            (a => a.Vpbroadcastd(13, Gpr.R12, 0x40000000), [0x62, 0x52, 0x7D, 0x48, 0x58, 0xAC, 0x24, 0, 0, 0, 0x40]), // vpbroadcastd zmm13, [r12+0x40000000]
            (a => a.Vmovdqu32Store(Gpr.Rcx, 0x40000000, 5), [0x62, 0xF1, 0x7E, 0x48, 0x7F, 0xA9, 0, 0, 0, 0x40]),    // vmovdqu32 [rcx+0x40000000], zmm5
            (a => a.Mov(Gpr.R10, Gpr.Rdi), [0x49, 0x89, 0xFA]),
            (a => a.Add(Gpr.R10, Gpr.Rsi), [0x49, 0x01, 0xF2]),
            (a => a.Add(Gpr.Rdx, 128), [0x48, 0x81, 0xC2, 0x80, 0, 0, 0]),
            (a => a.Test(Gpr.R9, Gpr.R9), [0x4D, 0x85, 0xC9]),
            (a => a.Dec(Gpr.R9), [0x49, 0xFF, 0xC9]),
            (a => a.Shl(Gpr.R8, 2), [0x49, 0xC1, 0xE0, 0x02]),
            (a => a.Vzeroupper(), [0xC5, 0xF8, 0x77]),
        ];
        foreach (var (emit, expected) in cases)
        {
            var asm = new X64Assembler();
            emit(asm);
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(asm.ToArray()));
        }
    }

    [Fact]
    public void JumpsResolveToTheirLabels()
    {
        var asm = new X64Assembler();
        var top = new X64Assembler.Label();
        asm.Bind(top);
        asm.Dec(Gpr.R9); // 3 bytes
        asm.Jnz(top);    // 6 bytes: back 9
        Assert.Equal("49FFC90F85F7FFFFFF", Convert.ToHexString(asm.ToArray()));
    }

    public static TheoryData<int, int> RowsAndK => new()
    {
        { 4, 0 }, { 4, 4 }, { 1, 64 }, { 4, 384 }, { 5, 1540 }, { 12, 384 }, { 12, 1540 }, { 7, 8 },
    };

    [SkippableTheory]
    [MemberData(nameof(RowsAndK))]
    public unsafe void KernelMatchesItsDefinition(int rows, int k)
    {
        Skip.IfNot(VnniMicroKernel.IsSupported, "this CPU has no AVX512-VNNI (or VIVACE_NO_JIT is set)");
        Check(rows, k, emitted: true);
    }

    [Theory]
    [MemberData(nameof(RowsAndK))]
    public void ManagedKernelOnThePackedBlockIsTheDefinition(int rows, int k) => Check(rows, k, emitted: false);

    private static unsafe void Check(int rows, int k, bool emitted)
    {
        int lda = k + 12, ldb = k + 4, ldc = 40;
        var random = new Random(k + rows);
        var a = new byte[rows * lda];
        random.NextBytes(a);
        if (a.Length > 0) a[0] = 255; // the extremes: 255 · −128 summed over k stays far from int32 overflow for these k
        var b = new sbyte[32 * ldb];
        for (int i = 0; i < b.Length; i++) b[i] = (sbyte)random.Next(-128, 128);
        b[0] = -128;
        var panel = new sbyte[Math.Max(1, k / 4 * VnniMicroKernel.PanelBytesPerGroup)];
        VnniMicroKernel.Pack(b, ldb, k, panel);
        var block = new byte[Math.Max(1, rows * k)];
        var expected = new int[rows * ldc];
        var got = new int[rows * ldc];
        Array.Fill(got, 12345); // every element is overwritten, padding columns are not
        VnniMicroKernel.Reference(rows, a, lda, b, ldb, expected, ldc, k);
        fixed (byte* pa = a, pb = block)
        fixed (sbyte* pp = panel)
        fixed (int* pc = got)
        {
            PanelDotEmitter.PackRowBlock(pa, lda, rows, k / 4, pb);
            if (emitted) VnniMicroKernel.Run(rows, pb, pp, pc, ldc, k);
            else VnniMicroKernel.RunManaged(rows, pb, pp, pc, ldc, k);
        }
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(expected.AsSpan(r * ldc, 32).ToArray(), got.AsSpan(r * ldc, 32).ToArray());
            Assert.All(got.AsSpan(r * ldc + 32, ldc - 32).ToArray(), x => Assert.Equal(12345, x));
        }
    }

    [Fact]
    public void EveryRowCountEmitsAndOthersAreRefused()
    {
        for (int rows = 1; rows <= VnniMicroKernel.MaxRows; rows++) Assert.NotEmpty(VnniMicroKernel.Emit(rows));
        Assert.Throws<ArgumentOutOfRangeException>(() => VnniMicroKernel.Emit(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => VnniMicroKernel.Emit(VnniMicroKernel.MaxRows + 1));
    }
}
