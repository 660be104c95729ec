namespace Vivace.Cpu.Jit;

/// <summary>General-purpose registers by their x64 encoding number.</summary>
public enum Gpr { Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15 }

/// <summary>
/// Just enough of an x64 assembler for GEMM microkernels: a few general-purpose instructions (legacy/REX encoding) and
/// AVX-512 instructions on zmm registers (EVEX encoding), with memory operands <c>[base + disp32]</c>. The byte layouts
/// follow the Intel SDM (vol. 2, "EVEX encoding"); tests run every instruction emitted here against managed references.
/// </summary>
public sealed class X64Assembler
{
    private readonly List<byte> _code = [];
    private readonly List<(int At, Label Target)> _fixups = [];

    /// <summary>A jump target, placed with <see cref="Bind"/>.</summary>
    public sealed class Label { internal int Position = -1; }

    public int Length => _code.Count;

    public void Bind(Label label) => label.Position = _code.Count;

    /// <summary>The finished code, jumps resolved.</summary>
    public byte[] ToArray()
    {
        byte[] code = [.. _code];
        foreach (var (at, target) in _fixups)
        {
            if (target.Position < 0) throw new InvalidOperationException("a jump targets a label never bound");
            BitConverter.TryWriteBytes(code.AsSpan(at, 4), target.Position - (at + 4));
        }
        return code;
    }

    private void Emit(params ReadOnlySpan<byte> bytes) { foreach (byte b in bytes) _code.Add(b); }

    private void Emit32(int value) { Span<byte> b = stackalloc byte[4]; BitConverter.TryWriteBytes(b, value); Emit(b); }

    private static byte Rex(bool w, int reg, int rm) => (byte)(0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1));

    private static byte ModRmRegister(int reg, int rm) => (byte)(0xC0 | (reg & 7) << 3 | (rm & 7));

    // ---- general-purpose (64-bit operand size)

    public void Mov(Gpr dst, Gpr src) => Emit(Rex(true, (int)src, (int)dst), 0x89, ModRmRegister((int)src, (int)dst));
    public void Add(Gpr dst, Gpr src) => Emit(Rex(true, (int)src, (int)dst), 0x01, ModRmRegister((int)src, (int)dst));

    public void Add(Gpr dst, int imm)
    {
        Emit(Rex(true, 0, (int)dst), 0x81, ModRmRegister(0, (int)dst));
        Emit32(imm);
    }

    public void Shl(Gpr dst, byte count) => Emit(Rex(true, 0, (int)dst), 0xC1, ModRmRegister(4, (int)dst), count);
    public void Dec(Gpr dst) => Emit(Rex(true, 0, (int)dst), 0xFF, ModRmRegister(1, (int)dst));
    public void Test(Gpr a, Gpr b) => Emit(Rex(true, (int)b, (int)a), 0x85, ModRmRegister((int)b, (int)a));

    public void Jnz(Label target) => Jump(0x85, target);
    public void Jz(Label target) => Jump(0x84, target);

    private void Jump(byte condition, Label target)
    {
        Emit(0x0F, condition);
        _fixups.Add((_code.Count, target));
        Emit32(0);
    }

    public void Vzeroupper() => Emit(0xC5, 0xF8, 0x77);
    public void Ret() => Emit(0xC3);

    // ---- AVX-512 (EVEX, 512-bit)

    private enum Map { X0F = 1, X0F38 = 2 }
    private enum Prefix { None = 0, X66 = 1, F3 = 2 }

    /// <summary>
    /// EVEX prefix + opcode + ModRM for <c>reg</c>, <c>vvvv</c> and a register <c>rm</c> (all zmm numbers 0–31).
    /// P0 = R̄ X̄ B̄ R̄' 0 0 m m; P1 = W v̄v̄v̄v̄ 1 p p; P2 = z L'L b V̄' a a a (L'L = 10: 512 bits).
    /// </summary>
    private void EvexRegister(Map map, Prefix pp, bool w, byte opcode, int reg, int vvvv, int rm)
    {
        byte p0 = (byte)((~reg >> 3 & 1) << 7 | (~rm >> 4 & 1) << 6 | (~rm >> 3 & 1) << 5 | (~reg >> 4 & 1) << 4 | (int)map);
        Emit(0x62, p0, P1(w, vvvv, pp), P2(vvvv), opcode, ModRmRegister(reg, rm));
    }

    /// <summary>As <see cref="EvexRegister"/> with a memory <c>rm</c>: <c>[baseRegister + disp32]</c> (no index).</summary>
    private void EvexMemory(Map map, Prefix pp, bool w, byte opcode, int reg, int vvvv, Gpr baseRegister, int displacement)
    {
        int b = (int)baseRegister;
        byte p0 = (byte)((~reg >> 3 & 1) << 7 | 1 << 6 /* X̄: no index */ | (~b >> 3 & 1) << 5 | (~reg >> 4 & 1) << 4 | (int)map);
        Emit(0x62, p0, P1(w, vvvv, pp), P2(vvvv), opcode, (byte)(0x80 | (reg & 7) << 3 | (b & 7)));
        if ((b & 7) == 4) Emit(0x24); // rsp/r12 as base need a SIB byte
        Emit32(displacement);
    }

    private static byte P1(bool w, int vvvv, Prefix pp) => (byte)((w ? 0x80 : 0) | (~vvvv & 15) << 3 | 4 | (int)pp);
    private static byte P2(int vvvv) => (byte)(2 << 5 | (~vvvv >> 4 & 1) << 3);

    /// <summary><c>vpxord zmm_dst, zmm_a, zmm_b</c> (zeroes a register when a = b = dst).</summary>
    public void Vpxord(int dst, int a, int b) => EvexRegister(Map.X0F, Prefix.X66, false, 0xEF, dst, a, b);

    /// <summary><c>vmovdqu32 zmm_dst, [base + disp]</c>.</summary>
    public void Vmovdqu32Load(int dst, Gpr baseRegister, int displacement) => EvexMemory(Map.X0F, Prefix.F3, false, 0x6F, dst, 0, baseRegister, displacement);

    /// <summary><c>vmovdqu32 [base + disp], zmm_src</c>.</summary>
    public void Vmovdqu32Store(Gpr baseRegister, int displacement, int src) => EvexMemory(Map.X0F, Prefix.F3, false, 0x7F, src, 0, baseRegister, displacement);

    /// <summary><c>vpbroadcastd zmm_dst, dword [base + disp]</c>.</summary>
    public void Vpbroadcastd(int dst, Gpr baseRegister, int displacement) => EvexMemory(Map.X0F38, Prefix.X66, false, 0x58, dst, 0, baseRegister, displacement);

    /// <summary>
    /// <c>vpdpbusd zmm_acc, zmm_unsigned, zmm_signed</c> (AVX512-VNNI): each int32 lane of acc += the sum of four
    /// products of unsigned bytes of the first source with the signed bytes of the second.
    /// </summary>
    public void Vpdpbusd(int accumulator, int unsignedBytes, int signedBytes) => EvexRegister(Map.X0F38, Prefix.X66, false, 0x50, accumulator, unsignedBytes, signedBytes);

    /// <summary>
    /// <c>vdpbf16ps zmm_acc, zmm_a, zmm_b</c> (AVX512-BF16): each f32 lane of acc += a.bf16[2i+1]·b.bf16[2i+1], then
    /// += a.bf16[2i]·b.bf16[2i], each product exact and each addition rounded to nearest even (denormals flushed).
    /// </summary>
    public void Vdpbf16ps(int accumulator, int a, int b) => EvexRegister(Map.X0F38, Prefix.F3, false, 0x52, accumulator, a, b);
}
