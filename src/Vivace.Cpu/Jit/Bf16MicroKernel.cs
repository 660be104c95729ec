namespace Vivace.Cpu.Jit;

/// <summary>
/// The bf16 GEMM microkernel on AVX512-BF16, emitted at run time (.NET has no intrinsic for it): C[4×32] (f32) =
/// A[4×k] (bf16, rows <c>lda</c> bytes apart) · Bᵀ where B is a 32-column panel packed for vdpbf16ps — per pair of k,
/// 32 columns × 2 bf16 (columns 0–15 then 16–31, each column's pair together). Per pair: two panel loads, four row
/// broadcasts, eight vdpbf16ps (32 multiply-adds each, twice an f32 FMA's). <see cref="Reference"/> is its managed
/// definition, operation for operation.
/// </summary>
public static unsafe class Bf16MicroKernel
{
    public const int Rows = 4, Columns = 32, KGroup = 2, PanelBytesPerGroup = Columns * KGroup * sizeof(ushort);

    private static readonly Lazy<ExecutableMemory?> Code = new(() => CpuFeatures.Avx512Bf16 ? new ExecutableMemory(Emit()) : null);

    /// <summary>Whether this machine runs the emitted kernel.</summary>
    public static bool IsSupported => Code.Value != null;

    public static byte[] Emit() =>
        PanelDotEmitter.Emit4x32((asm, acc, a, b) => asm.Vdpbf16ps(acc, a, b), KGroup * sizeof(ushort), PanelBytesPerGroup);

    /// <summary>Runs the emitted kernel; <paramref name="k"/> must be even (pad A and B with zeros). <paramref name="lda"/> in
    /// bf16 elements, <paramref name="ldc"/> in floats.</summary>
    public static void Run(ushort* a, long lda, ushort* panel, float* c, long ldc, int k)
    {
        ExecutableMemory code = Code.Value ?? throw new PlatformNotSupportedException("AVX512-BF16 kernels are not available here");
        if (k % KGroup != 0) throw new ArgumentException($"k {k} is not even", nameof(k));
        ((delegate* unmanaged<ushort*, long, ushort*, float*, long, long, void>)code.Address)(a, lda * sizeof(ushort), panel, c, ldc, k / KGroup);
    }

    /// <summary>
    /// The kernel's arithmetic in managed code, on the packed panel (the GEMM's path where the CPU lacks AVX512-BF16 but
    /// dot products are asked for, e.g. by tests): the same operations as <see cref="Reference"/>.
    /// </summary>
    public static void RunManaged(ushort* a, long lda, ushort* panel, float* c, long ldc, int k)
    {
        if (k % KGroup != 0) throw new ArgumentException($"k {k} is not even", nameof(k));
        static float F(ushort v) => BitConverter.Int32BitsToSingle(v << 16);
        for (int r = 0; r < Rows; r++)
            for (int col = 0; col < Columns; col++)
            {
                float sum = 0;
                for (int g = 0; g < k / KGroup; g++)
                {
                    ushort* pair = panel + (g * Columns + col) * KGroup;
                    sum += F(a[r * lda + 2 * g + 1]) * F(pair[1]);
                    sum += F(a[r * lda + 2 * g]) * F(pair[0]);
                }
                c[r * ldc + col] = sum;
            }
    }

    /// <summary>Packs B (<c>[32 columns, k]</c> bf16, rows <paramref name="ldb"/> apart) into the kernel's panel layout.</summary>
    public static void Pack(ReadOnlySpan<ushort> b, int ldb, int k, Span<ushort> panel)
    {
        for (int g = 0; g < k / KGroup; g++)
            for (int c = 0; c < Columns; c++)
                for (int i = 0; i < KGroup; i++)
                    panel[(g * Columns + c) * KGroup + i] = b[c * ldb + g * KGroup + i];
    }

    /// <summary>
    /// The definition: per k-pair, c += a[2g+1]·b[2g+1] then c += a[2g]·b[2g] (bf16 products are exact in f32; each
    /// addition rounds), as the SDM defines vdpbf16ps (inputs here are normal numbers, so its denormal flushing is moot).
    /// </summary>
    public static void Reference(ReadOnlySpan<ushort> a, int lda, ReadOnlySpan<ushort> b, int ldb, Span<float> c, int ldc, int k)
    {
        static float F(ushort v) => BitConverter.Int32BitsToSingle(v << 16);
        for (int r = 0; r < Rows; r++)
            for (int col = 0; col < Columns; col++)
            {
                float sum = 0;
                for (int g = 0; g < k / KGroup; g++)
                {
                    sum += F(a[r * lda + 2 * g + 1]) * F(b[col * ldb + 2 * g + 1]);
                    sum += F(a[r * lda + 2 * g]) * F(b[col * ldb + 2 * g]);
                }
                c[r * ldc + col] = sum;
            }
    }
}
