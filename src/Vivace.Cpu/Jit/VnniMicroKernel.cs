using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Vivace.Cpu.Jit;

/// <summary>
/// The int8 GEMM microkernel on AVX512-VNNI, emitted at run time (.NET exposes no intrinsic for the EVEX form):
/// C[rows×32] (int32) = A[rows×k] (unsigned bytes, a packed row block: <see cref="PanelDotEmitter.PackRowBlock"/>) · Bᵀ
/// where B is a 32-column panel packed for vpdpbusd — per group of four k, 32 columns × 4 bytes (columns 0–15 then 16–31,
/// each column's 4 bytes together). One variant per row count 1–12 (<see cref="PanelDotEmitter"/>), so a block's last
/// rows cost nothing past the matrix. <see cref="Reference"/> is the managed definition it is tested against;
/// <see cref="RunManaged"/> computes the same integers on the packed operands where the CPU lacks VNNI.
/// </summary>
public static unsafe class VnniMicroKernel
{
    public const int MaxRows = PanelDotEmitter.MaxRows, Columns = PanelDotEmitter.Columns, KGroup = 4, PanelBytesPerGroup = Columns * KGroup;

    private static readonly PanelDotVariants Variants = new(CpuFeatures.Avx512Vnni, Emit, KGroup, "AVX512-VNNI kernels are not available here");

    /// <summary>Whether this machine runs the emitted kernels.</summary>
    public static bool IsSupported => Variants.IsSupported;

    /// <summary>System V: (rdi a, rsi panel, rdx c, rcx ldc in int32 elements, r8 k-groups).</summary>
    public static byte[] Emit(int rows) => PanelDotEmitter.Emit(rows, (asm, acc, a, b) => asm.Vpdpbusd(acc, a, b), PanelBytesPerGroup);

    /// <summary>Runs the emitted kernel for <paramref name="rows"/> rows; <paramref name="k"/> must be a multiple of 4 (pad A
    /// and B with zeros).</summary>
    public static void Run(int rows, byte* a, sbyte* panel, int* c, long ldc, int k)
    {
        ((delegate* unmanaged<byte*, sbyte*, int*, long, long, void>)Variants.Entry(rows, k))(a, panel, c, ldc, k / KGroup);
    }

    /// <summary>The kernel's integers in managed code, on the same packed operands: exact, so the same numbers as the
    /// emitted kernel. AVX2 widens both sides to 16 bits and multiplies with vpmaddwd (no saturation, unlike
    /// vpmaddubsw); elsewhere scalar.</summary>
    public static void RunManaged(int rows, byte* a, sbyte* panel, int* c, long ldc, int k)
    {
        Variants.Check(rows, k);
        int groups = k / KGroup;
        if (Avx2.IsSupported)
        {
            RunManagedAvx2(rows, a, panel, c, ldc, groups);
            return;
        }
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < Columns; col++)
            {
                int sum = 0;
                for (int g = 0; g < groups; g++)
                {
                    byte* x = a + ((long)g * rows + r) * KGroup;
                    sbyte* w = panel + (long)g * PanelBytesPerGroup + col * KGroup;
                    sum += x[0] * w[0] + x[1] * w[1] + x[2] * w[2] + x[3] * w[3];
                }
                c[r * ldc + col] = sum;
            }
    }

    /// <summary>
    /// Per k-group: the panel's 128 bytes widen to eight vectors of 16 shorts (4 columns × their 4 k each); each row's 4
    /// bytes widen to a repeating pattern; vpmaddwd gives per column two int32 pair sums (lanes 2t, 2t+1), accumulated
    /// per row in memory (rows × 8 vectors) and added together at the end.
    /// </summary>
    private static void RunManagedAvx2(int rows, byte* a, sbyte* panel, int* c, long ldc, int groups)
    {
        const int Vectors = PanelBytesPerGroup / 16;
        int* pairs = stackalloc int[MaxRows * Vectors * 8];
        new Span<int>(pairs, rows * Vectors * 8).Clear();
        for (int g = 0; g < groups; g++)
        {
            sbyte* w = panel + (long)g * PanelBytesPerGroup;
            byte* x = a + (long)g * rows * KGroup;
            Vector256<short> w0 = Avx2.ConvertToVector256Int16(Vector128.Load(w)), w1 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 16)),
                w2 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 32)), w3 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 48)),
                w4 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 64)), w5 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 80)),
                w6 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 96)), w7 = Avx2.ConvertToVector256Int16(Vector128.Load(w + 112));
            for (int r = 0; r < rows; r++)
            {
                byte* xr = x + r * KGroup;
                ulong pattern = xr[0] | (ulong)xr[1] << 16 | (ulong)xr[2] << 32 | (ulong)xr[3] << 48;
                Vector256<short> xp = Vector256.Create(pattern).AsInt16();
                int* acc = pairs + r * Vectors * 8;
                Vector256.Store(Vector256.Load(acc) + Avx2.MultiplyAddAdjacent(w0, xp), acc);
                Vector256.Store(Vector256.Load(acc + 8) + Avx2.MultiplyAddAdjacent(w1, xp), acc + 8);
                Vector256.Store(Vector256.Load(acc + 16) + Avx2.MultiplyAddAdjacent(w2, xp), acc + 16);
                Vector256.Store(Vector256.Load(acc + 24) + Avx2.MultiplyAddAdjacent(w3, xp), acc + 24);
                Vector256.Store(Vector256.Load(acc + 32) + Avx2.MultiplyAddAdjacent(w4, xp), acc + 32);
                Vector256.Store(Vector256.Load(acc + 40) + Avx2.MultiplyAddAdjacent(w5, xp), acc + 40);
                Vector256.Store(Vector256.Load(acc + 48) + Avx2.MultiplyAddAdjacent(w6, xp), acc + 48);
                Vector256.Store(Vector256.Load(acc + 56) + Avx2.MultiplyAddAdjacent(w7, xp), acc + 56);
            }
        }
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < Columns; col++)
                c[r * ldc + col] = pairs[r * Vectors * 8 + 2 * col] + pairs[r * Vectors * 8 + 2 * col + 1];
    }

    /// <summary>Packs B (<c>[32 columns, k]</c> signed bytes, rows <paramref name="ldb"/> apart) into the kernel's panel layout.</summary>
    public static void Pack(ReadOnlySpan<sbyte> b, int ldb, int k, Span<sbyte> panel)
    {
        for (int g = 0; g < k / KGroup; g++)
            for (int c = 0; c < Columns; c++)
                for (int i = 0; i < KGroup; i++)
                    panel[g * PanelBytesPerGroup + c * KGroup + i] = b[c * ldb + g * KGroup + i];
    }

    /// <summary>The definition: c[r, col] = Σ_k a[r, k] (unsigned) · b[col, k] (signed), A row-major.</summary>
    public static void Reference(int rows, ReadOnlySpan<byte> a, int lda, ReadOnlySpan<sbyte> b, int ldb, Span<int> c, int ldc, int k)
    {
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < Columns; col++)
            {
                int sum = 0;
                for (int i = 0; i < k; i++) sum += a[r * lda + i] * b[col * ldb + i];
                c[r * ldc + col] = sum;
            }
    }
}
