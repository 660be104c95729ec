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

/// <summary>
/// Every emitted dot-product kernel (VNNI and AVX512-BF16, 1–12 rows) disassembled by GNU objdump, instruction by
/// instruction, against the loop the design calls for — a check of the whole emitted program (register numbers past
/// 15, displacements, jump targets) that needs no AVX-512 CPU. Skipped where binutils' objdump is not installed.
/// </summary>
public class EmittedKernelListingTests
{
    [SkippableTheory]
    [InlineData("vpdpbusd")]
    [InlineData("vdpbf16ps")]
    public void KernelsDisassembleAsDesigned(string dot)
    {
        string? objdump = new[] { "/usr/bin/objdump", "/usr/local/bin/objdump" }.FirstOrDefault(File.Exists);
        Skip.If(objdump is null, "GNU objdump (binutils) is not installed");
        for (int rows = 1; rows <= VnniMicroKernel.MaxRows; rows++)
        {
            byte[] code = dot == "vpdpbusd" ? VnniMicroKernel.Emit(rows) : Bf16MicroKernel.Emit(rows);
            string path = Path.Combine(Path.GetTempPath(), $"vivace-kernel-{Environment.ProcessId}-{dot}-{rows}.bin");
            File.WriteAllBytes(path, code);
            try
            {
                List<string> listing = Disassemble(objdump!, path);
                Assert.Equal(Expected(rows, dot), listing);
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>The design: zero 2·rows accumulators; per k-group two panel loads, a broadcast per row from [rdi + 4r]
    /// into zmm26–31 in turn and two dots; advance; store row by row.</summary>
    private static List<string> Expected(int rows, string dot)
    {
        var e = new List<string>();
        for (int z = 0; z < 2 * rows; z++) e.Add($"vpxord zmm{z},zmm{z},zmm{z}");
        e.Add("test r8,r8");
        e.Add("je STORE");
        e.Add("vmovdqu32 zmm24,ZMMWORD PTR [rsi+0x0]");
        e.Add("vmovdqu32 zmm25,ZMMWORD PTR [rsi+0x40]");
        for (int r = 0; r < rows; r++)
        {
            int b = 26 + r % 6;
            e.Add($"vpbroadcastd zmm{b},DWORD PTR [rdi+0x{4 * r:x}]");
            e.Add($"{dot} zmm{2 * r},zmm{b},zmm24");
            e.Add($"{dot} zmm{2 * r + 1},zmm{b},zmm25");
        }
        e.Add($"add rdi,0x{4 * rows:x}");
        e.Add("add rsi,0x80"); // a panel's k-group: 32 columns × 4 bytes, for both kernels
        e.Add("dec r8");
        e.Add("jne LOOP");
        e.Add("shl rcx,0x2");
        for (int r = 0; r < rows; r++)
        {
            e.Add($"vmovdqu32 ZMMWORD PTR [rdx+0x0],zmm{2 * r}");
            e.Add($"vmovdqu32 ZMMWORD PTR [rdx+0x40],zmm{2 * r + 1}");
            if (r < rows - 1) e.Add("add rdx,rcx");
        }
        e.Add("vzeroupper");
        e.Add("ret");
        return e;
    }

    /// <summary>objdump's instructions, whitespace collapsed; jump targets replaced by the label they must be (the
    /// loop's first instruction, the store section's first), checked against the instruction offsets.</summary>
    private static List<string> Disassemble(string objdump, string path)
    {
        var start = new System.Diagnostics.ProcessStartInfo(objdump, ["-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel", path])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        var offsets = new List<long>();
        var lines = new List<string>();
        foreach (string line in output.Split('\n'))
        {
            string[] fields = line.Split('\t');
            if (fields.Length < 3 || !fields[0].TrimEnd().EndsWith(':')) continue;
            offsets.Add(Convert.ToInt64(fields[0].Trim().TrimEnd(':'), 16));
            lines.Add(string.Join(' ', fields[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)).Replace(", ", ","));
        }
        int loop = lines.FindIndex(l => l.StartsWith("vmovdqu32 zmm24")), store = lines.FindIndex(l => l.StartsWith("shl"));
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines[i].StartsWith("je ")) { Assert.Equal(offsets[store], Convert.ToInt64(lines[i][3..].Trim(), 16)); lines[i] = "je STORE"; }
            if (lines[i].StartsWith("jne ")) { Assert.Equal(offsets[loop], Convert.ToInt64(lines[i][4..].Trim(), 16)); lines[i] = "jne LOOP"; }
        }
        return lines;
    }
}
