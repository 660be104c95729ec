using System.Numerics;
using System.Runtime.InteropServices;

namespace Vivace.Tokenizers;

/// <summary>The hash of the tokenizer's own tables: multiply-rotate over 64-bit blocks (4 UTF-16 units) and
/// the 0–3 units left, the length mixed in first, a final avalanche. Several times cheaper than the general
/// string hashes on the short words and tokens it sees; tables seed it per instance so input cannot be aimed
/// at their collisions.</summary>
internal static class TextHash
{
    public static uint Of(ReadOnlySpan<char> text, ulong seed)
    {
        const ulong K = 0x9E3779B97F4A7C15;
        ulong h = (seed ^ (ulong)text.Length) * K;
        var blocks = MemoryMarshal.Cast<char, ulong>(text);
        foreach (ulong b in blocks) h = BitOperations.RotateLeft((h ^ b) * K, 31);
        for (int i = blocks.Length * 4; i < text.Length; i++) h = BitOperations.RotateLeft((h ^ text[i]) * K, 31);
        h ^= h >> 32;
        h *= K;
        return (uint)(h >> 32);
    }

    /// <summary>A random odd seed for one table.</summary>
    public static ulong NewSeed() => (ulong)Random.Shared.NextInt64() | 1;
}
