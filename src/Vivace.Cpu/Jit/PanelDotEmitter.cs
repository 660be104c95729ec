namespace Vivace.Cpu.Jit;

/// <summary>
/// The loop shared by the emitted dot-product microkernels (VNNI int8, AVX512-BF16): C[rows×32] (32-bit lanes) = Σ over
/// k-groups of a dot instruction between one row's group broadcast from A (4 bytes: four u8 or two bf16) and the
/// panel's 32 columns of that group (two zmm). A is a packed row block (<see cref="PackRowBlock"/>): per k-group the
/// rows' 4 bytes side by side, so one pointer walks it and every broadcast is <c>[a + 4r]</c>.
/// Registers: zmm0 … zmm(2·rows − 1) accumulate (row r: 2r for columns 0–15, 2r + 1 for 16–31), zmm24/25 hold the
/// panel's group, zmm26–31 take the broadcasts in turn (so a broadcast need not wait for the dots of the one six rows
/// before). At 12 rows a group is 2 panel loads + 12 broadcasts for 24 dots, against 2 + 4 for 8 at 4 rows; the
/// accumulators' latency hides behind 23 independent others.
/// </summary>
internal static class PanelDotEmitter
{
    public const int MaxRows = 12, Columns = 32, GroupBytes = 4;
    private const int PanelLow = 24, PanelHigh = 25, FirstBroadcast = 26, Broadcasts = 6;

    /// <summary>
    /// System V arguments: rdi a (packed row block), rsi panel, rdx c, rcx ldc (in 32-bit elements), r8 k-groups.
    /// <paramref name="dot"/> emits <c>acc += dot(a, b)</c> for (accumulator, broadcast register, panel register).
    /// </summary>
    public static byte[] Emit(int rows, Action<X64Assembler, int, int, int> dot, int panelBytesPerGroup)
    {
        if (rows < 1 || rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"1 to {MaxRows} rows");
        var asm = new X64Assembler();
        for (int z = 0; z < 2 * rows; z++) asm.Vpxord(z, z, z);
        var store = new X64Assembler.Label();
        var loop = new X64Assembler.Label();
        asm.Test(Gpr.R8, Gpr.R8);
        asm.Jz(store);
        asm.Bind(loop);
        asm.Vmovdqu32Load(PanelLow, Gpr.Rsi, 0);
        asm.Vmovdqu32Load(PanelHigh, Gpr.Rsi, 64);
        for (int r = 0; r < rows; r++)
        {
            int broadcast = FirstBroadcast + r % Broadcasts;
            asm.Vpbroadcastd(broadcast, Gpr.Rdi, GroupBytes * r);
            dot(asm, 2 * r, broadcast, PanelLow);
            dot(asm, 2 * r + 1, broadcast, PanelHigh);
        }
        asm.Add(Gpr.Rdi, GroupBytes * rows);
        asm.Add(Gpr.Rsi, panelBytesPerGroup);
        asm.Dec(Gpr.R8);
        asm.Jnz(loop);
        asm.Bind(store);
        asm.Shl(Gpr.Rcx, 2); // ldc in bytes
        for (int r = 0; r < rows; r++)
        {
            asm.Vmovdqu32Store(Gpr.Rdx, 0, 2 * r);
            asm.Vmovdqu32Store(Gpr.Rdx, 64, 2 * r + 1);
            if (r < rows - 1) asm.Add(Gpr.Rdx, Gpr.Rcx);
        }
        asm.Vzeroupper();
        asm.Ret();
        return asm.ToArray();
    }

    /// <summary>
    /// Packs <paramref name="rows"/> rows (each <paramref name="groups"/> · 4 bytes, rows <paramref name="rowBytes"/>
    /// apart) into the kernels' row-block layout: block[(g · rows + r) · 4 + i] = row r's byte 4g + i.
    /// </summary>
    public static unsafe void PackRowBlock(byte* source, long rowBytes, int rows, int groups, byte* block)
    {
        for (int r = 0; r < rows; r++)
        {
            uint* row = (uint*)(source + r * rowBytes);
            uint* target = (uint*)block + r;
            for (int g = 0; g < groups; g++) target[(long)g * rows] = row[g];
        }
    }
}

/// <summary>
/// One dot-product kernel's emitted variants (<see cref="PanelDotEmitter.Emit"/>, one per row count 1–12), made on first
/// use where the CPU has the instruction, and the checks every call of them or of their managed twins makes.
/// </summary>
internal sealed class PanelDotVariants(bool supported, Func<int, byte[]> emit, int kGroup, string missing)
{
    private readonly Lazy<ExecutableMemory[]?> _code = new(() => supported
        ? [.. Enumerable.Range(1, PanelDotEmitter.MaxRows).Select(rows => new ExecutableMemory(emit(rows)))]
        : null);

    /// <summary>Whether this machine runs the emitted kernels.</summary>
    public bool IsSupported => _code.Value != null;

    /// <summary>The variant for <paramref name="rows"/>, after <see cref="Check"/>; where nothing was emitted, throws.</summary>
    public nint Entry(int rows, int k)
    {
        ExecutableMemory[] code = _code.Value ?? throw new PlatformNotSupportedException(missing);
        Check(rows, k);
        return code[rows - 1].Address;
    }

    /// <summary>Rows within 1–12, k whole k-groups (callers pad A and B with zeros).</summary>
    public void Check(int rows, int k)
    {
        if (rows < 1 || rows > PanelDotEmitter.MaxRows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"1 to {PanelDotEmitter.MaxRows} rows");
        if (k % kGroup != 0) throw new ArgumentException($"k {k} is not a multiple of {kGroup}", nameof(k));
    }
}
