namespace Vivace.Cpu.Jit;

/// <summary>
/// The int8 GEMM microkernel on AVX512-VNNI, emitted at run time (.NET exposes no intrinsic for the EVEX form):
/// C[4×32] (int32) = A[4×k] (unsigned bytes, rows <c>lda</c> bytes apart) · Bᵀ where B is a 32-column panel packed for
/// vpdpbusd — per group of four k, 32 columns × 4 bytes (columns 0–15 then 16–31, each column's 4 bytes together).
/// Per k-group: two panel loads, four row broadcasts, eight vpdpbusd into eight zmm accumulators. <see cref="Reference"/>
/// is the managed definition it is tested against.
/// </summary>
public static unsafe class VnniMicroKernel
{
    public const int Rows = 4, Columns = 32, KGroup = 4, PanelBytesPerGroup = Columns * KGroup;

    private static readonly Lazy<ExecutableMemory?> Code = new(() => CpuFeatures.Avx512Vnni ? new ExecutableMemory(Emit()) : null);

    /// <summary>Whether this machine runs the emitted kernel.</summary>
    public static bool IsSupported => Code.Value != null;

    /// <summary>System V: (rdi a, rsi lda, rdx panel, rcx c, r8 ldc in int32 elements, r9 k-groups).</summary>
    public static byte[] Emit() => PanelDotEmitter.Emit4x32((asm, acc, a, b) => asm.Vpdpbusd(acc, a, b), KGroup, PanelBytesPerGroup);

    /// <summary>Runs the emitted kernel; <paramref name="k"/> must be a multiple of 4 (pad A and B with zeros).</summary>
    public static void Run(byte* a, long lda, sbyte* panel, int* c, long ldc, int k)
    {
        ExecutableMemory code = Code.Value ?? throw new PlatformNotSupportedException("AVX512-VNNI kernels are not available here");
        if (k % KGroup != 0) throw new ArgumentException($"k {k} is not a multiple of {KGroup}", nameof(k));
        ((delegate* unmanaged<byte*, long, sbyte*, int*, long, long, void>)code.Address)(a, lda, panel, c, ldc, k / KGroup);
    }

    /// <summary>Packs B (<c>[32 columns, k]</c> signed bytes, rows <paramref name="ldb"/> apart) into the kernel's panel layout.</summary>
    public static void Pack(ReadOnlySpan<sbyte> b, int ldb, int k, Span<sbyte> panel)
    {
        for (int g = 0; g < k / KGroup; g++)
            for (int c = 0; c < Columns; c++)
                for (int i = 0; i < KGroup; i++)
                    panel[g * PanelBytesPerGroup + c * KGroup + i] = b[c * ldb + g * KGroup + i];
    }

    /// <summary>The definition: c[r, col] = Σ_k a[r, k] (unsigned) · b[col, k] (signed).</summary>
    public static void Reference(ReadOnlySpan<byte> a, int lda, ReadOnlySpan<sbyte> b, int ldb, Span<int> c, int ldc, int k)
    {
        for (int r = 0; r < Rows; r++)
            for (int col = 0; col < Columns; col++)
            {
                int sum = 0;
                for (int i = 0; i < k; i++) sum += a[r * lda + i] * b[col * ldb + i];
                c[r * ldc + col] = sum;
            }
    }
}
