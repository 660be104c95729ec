namespace Vivace.Cpu.Jit;

/// <summary>
/// The loop shared by the emitted dot-product microkernels (VNNI int8, AVX512-BF16): C[4×32] (32-bit lanes) = Σ over
/// k-groups of a dot instruction between one row's group broadcast from A (4 bytes: four u8 or two bf16) and the
/// panel's 32 columns of that group (two zmm). Eight zmm accumulators (row r: zmm 2r for columns 0–15, 2r+1 for 16–31),
/// two panel registers, four broadcast registers.
/// </summary>
internal static class PanelDotEmitter
{
    /// <summary>
    /// System V arguments: rdi a, rsi lda (bytes), rdx panel, rcx c, r8 ldc (in 32-bit elements), r9 k-groups.
    /// <paramref name="dot"/> emits <c>acc += dot(a, b)</c> for (accumulator, broadcast register, panel register).
    /// </summary>
    public static byte[] Emit4x32(Action<X64Assembler, int, int, int> dot, int aBytesPerGroup, int panelBytesPerGroup)
    {
        const int Rows = 4;
        var asm = new X64Assembler();
        for (int z = 0; z < 2 * Rows; z++) asm.Vpxord(z, z, z);
        // Row pointers: rdi, r10, r11, rax.
        asm.Mov(Gpr.R10, Gpr.Rdi); asm.Add(Gpr.R10, Gpr.Rsi);
        asm.Mov(Gpr.R11, Gpr.R10); asm.Add(Gpr.R11, Gpr.Rsi);
        asm.Mov(Gpr.Rax, Gpr.R11); asm.Add(Gpr.Rax, Gpr.Rsi);
        var store = new X64Assembler.Label();
        var loop = new X64Assembler.Label();
        asm.Test(Gpr.R9, Gpr.R9);
        asm.Jz(store);
        asm.Bind(loop);
        asm.Vmovdqu32Load(8, Gpr.Rdx, 0);
        asm.Vmovdqu32Load(9, Gpr.Rdx, 64);
        Gpr[] rows = [Gpr.Rdi, Gpr.R10, Gpr.R11, Gpr.Rax];
        for (int r = 0; r < Rows; r++) asm.Vpbroadcastd(10 + r, rows[r], 0);
        for (int r = 0; r < Rows; r++)
        {
            dot(asm, 2 * r, 10 + r, 8);
            dot(asm, 2 * r + 1, 10 + r, 9);
        }
        foreach (Gpr row in rows) asm.Add(row, aBytesPerGroup);
        asm.Add(Gpr.Rdx, panelBytesPerGroup);
        asm.Dec(Gpr.R9);
        asm.Jnz(loop);
        asm.Bind(store);
        asm.Shl(Gpr.R8, 2); // ldc in bytes
        for (int r = 0; r < Rows; r++)
        {
            asm.Vmovdqu32Store(Gpr.Rcx, 0, 2 * r);
            asm.Vmovdqu32Store(Gpr.Rcx, 64, 2 * r + 1);
            if (r < Rows - 1) asm.Add(Gpr.Rcx, Gpr.R8);
        }
        asm.Vzeroupper();
        asm.Ret();
        return asm.ToArray();
    }
}
