using System.Runtime.Intrinsics;

namespace Vivace.Cpu.Jit;

/// <summary>
/// The bf16 GEMM microkernel on AVX512-BF16, emitted at run time (.NET has no intrinsic for it): C[rows×32] (f32) =
/// A[rows×k] (bf16, a packed row block: <see cref="PanelDotEmitter.PackRowBlock"/>, one k-pair per 4 bytes) · Bᵀ where B
/// is a 32-column panel packed for vdpbf16ps — per pair of k, 32 columns × 2 bf16 (columns 0–15 then 16–31, each
/// column's pair together). vdpbf16ps does 32 multiply-adds, twice an f32 FMA. One variant per row count 1–12.
/// <see cref="Reference"/> is its managed definition, operation for operation; <see cref="RunManaged"/> the same
/// arithmetic on the packed operands.
/// </summary>
public static unsafe class Bf16MicroKernel
{
    public const int MaxRows = PanelDotEmitter.MaxRows, Columns = PanelDotEmitter.Columns, KGroup = 2,
        PanelBytesPerGroup = Columns * KGroup * sizeof(ushort);

    private static readonly PanelDotVariants Variants = new(CpuFeatures.Avx512Bf16, Emit, KGroup, "AVX512-BF16 kernels are not available here");

    /// <summary>Whether this machine runs the emitted kernels.</summary>
    public static bool IsSupported => Variants.IsSupported;

    public static byte[] Emit(int rows) => PanelDotEmitter.Emit(rows, (asm, acc, a, b) => asm.Vdpbf16ps(acc, a, b), PanelBytesPerGroup);

    /// <summary>Runs the emitted kernel for <paramref name="rows"/> rows; <paramref name="k"/> must be even (pad A and B with
    /// zeros); <paramref name="ldc"/> in floats.</summary>
    public static void Run(int rows, ushort* a, ushort* panel, float* c, long ldc, int k)
    {
        ((delegate* unmanaged<ushort*, ushort*, float*, long, long, void>)Variants.Entry(rows, k))(a, panel, c, ldc, k / KGroup);
    }

    /// <summary>
    /// The kernel's arithmetic in managed code, on the packed operands (the GEMM's path where the CPU lacks AVX512-BF16
    /// but dot products are asked for, e.g. by tests): the same operations as <see cref="Reference"/>.
    /// </summary>
    public static void RunManaged(int rows, ushort* a, ushort* panel, float* c, long ldc, int k)
    {
        Variants.Check(rows, k);
        int groups = k / KGroup;
        if (Vector256.IsHardwareAccelerated)
        {
            RunManagedVector(rows, a, panel, c, ldc, groups);
            return;
        }
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < Columns; col++)
            {
                float sum = 0;
                for (int g = 0; g < groups; g++)
                {
                    ushort* x = a + ((long)g * rows + r) * KGroup;
                    ushort* pair = panel + ((long)g * Columns + col) * KGroup;
                    sum += F(x[1]) * F(pair[1]);
                    sum += F(x[0]) * F(pair[0]);
                }
                c[r * ldc + col] = sum;
            }
    }

    /// <summary>
    /// The same per column, 8 columns a vector: a column's pair is one 32-bit lane, whose high half is b[2g+1] as an f32
    /// (mask) and low half b[2g] (shift). Products of bf16 values are exact in f32, so multiply-then-add rounds as the
    /// scalar code does. Accumulators per row in memory (rows × 4 vectors).
    /// </summary>
    private static void RunManagedVector(int rows, ushort* a, ushort* panel, float* c, long ldc, int groups)
    {
        float* sums = stackalloc float[MaxRows * Columns];
        new Span<float>(sums, rows * Columns).Clear();
        var high = Vector256.Create(0xFFFF0000u);
        for (int g = 0; g < groups; g++)
        {
            uint* pairs = (uint*)(panel + (long)g * Columns * KGroup);
            Vector256<uint> p0 = Vector256.Load(pairs), p1 = Vector256.Load(pairs + 8), p2 = Vector256.Load(pairs + 16), p3 = Vector256.Load(pairs + 24);
            Vector256<float> h0 = (p0 & high).AsSingle(), h1 = (p1 & high).AsSingle(), h2 = (p2 & high).AsSingle(), h3 = (p3 & high).AsSingle();
            Vector256<float> l0 = (p0 << 16).AsSingle(), l1 = (p1 << 16).AsSingle(), l2 = (p2 << 16).AsSingle(), l3 = (p3 << 16).AsSingle();
            ushort* x = a + (long)g * rows * KGroup;
            for (int r = 0; r < rows; r++)
            {
                var x1 = Vector256.Create(F(x[r * KGroup + 1]));
                var x0 = Vector256.Create(F(x[r * KGroup]));
                float* s = sums + r * Columns;
                Vector256.Store(Add(Vector256.Load(s), x1 * h0, x0 * l0), s);
                Vector256.Store(Add(Vector256.Load(s + 8), x1 * h1, x0 * l1), s + 8);
                Vector256.Store(Add(Vector256.Load(s + 16), x1 * h2, x0 * l2), s + 16);
                Vector256.Store(Add(Vector256.Load(s + 24), x1 * h3, x0 * l3), s + 24);
            }
        }
        for (int r = 0; r < rows; r++) new ReadOnlySpan<float>(sums + r * Columns, Columns).CopyTo(new Span<float>(c + r * ldc, Columns));
    }

    /// <summary>(sum + odd) + even: the definition's order, each addition rounded.</summary>
    private static Vector256<float> Add(Vector256<float> sum, Vector256<float> odd, Vector256<float> even) => sum + odd + even;

    private static float F(ushort v) => BitConverter.Int32BitsToSingle(v << 16);

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
    /// A row-major.
    /// </summary>
    public static void Reference(int rows, ReadOnlySpan<ushort> a, int lda, ReadOnlySpan<ushort> b, int ldb, Span<float> c, int ldc, int k)
    {
        for (int r = 0; r < rows; r++)
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
