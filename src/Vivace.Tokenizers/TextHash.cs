using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vivace.Tokenizers;

/// <summary>
/// Hashing and comparing the short words and tokens the tokenizer's own tables hold. Most are 1–8 UTF-16 units,
/// which take no loop at all: two (possibly overlapping) 64-bit reads, or three units packed for 1–3, and one
/// folded 64×64→128-bit multiply (wyhash's "mum"). Lengths vary word to word, so what matters is few branches,
/// not bytes per cycle. Tables seed it per instance so input cannot be aimed at their collisions.
/// </summary>
internal static class TextHash
{
    private const ulong K1 = 0xA0761D6478BD642F, K2 = 0xE7037ED1A0B428DB;

    public static uint Of(ReadOnlySpan<char> text, ulong seed)
    {
        int n = text.Length;
        ref byte p = ref Unsafe.As<char, byte>(ref MemoryMarshal.GetReference(text));
        ulong a, b, s = seed;
        if (n >= 4)
        {
            int i = 0;
            // 8 units (16 bytes) per step while more than 8 remain; the last 8 may overlap the previous step.
            for (; n - i > 8; i += 8) s = Mum(Read(ref p, i) ^ K1 ^ s, Read(ref p, i + 4) ^ K2);
            a = Read(ref p, Math.Max(0, n - 8));
            b = Read(ref p, n - 4);
        }
        else if (n > 0)
        {
            a = (ulong)text[0] << 32 | text[n >> 1];
            b = text[n - 1];
        }
        else a = b = 0;
        ulong h = Mum(a ^ K1 ^ s, b ^ K2 ^ (ulong)n);
        return (uint)(h ^ h >> 32);
    }

    /// <summary>Whether two texts of the same length are equal: two 64-bit compares for 4–8 units.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool SameText(ReadOnlySpan<char> x, ReadOnlySpan<char> y)
    {
        int n = x.Length;
        if (n is >= 4 and <= 8)
        {
            ref byte px = ref Unsafe.As<char, byte>(ref MemoryMarshal.GetReference(x));
            ref byte py = ref Unsafe.As<char, byte>(ref MemoryMarshal.GetReference(y));
            return Read(ref px, 0) == Read(ref py, 0) && Read(ref px, n - 4) == Read(ref py, n - 4);
        }
        return x.SequenceEqual(y);
    }

    /// <summary>A random seed for one table.</summary>
    public static ulong NewSeed() => (ulong)Random.Shared.NextInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read(ref byte p, int unit) => Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, unit * 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mum(ulong x, ulong y)
    {
        ulong high = Math.BigMul(x, y, out ulong low);
        return high ^ low;
    }
}
