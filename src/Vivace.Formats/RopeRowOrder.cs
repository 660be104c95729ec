namespace Vivace.Formats;

/// <summary>
/// The row orders of a q_proj/k_proj weight under the two RoPE conventions. HF Llama rotates the pairs
/// (i, i + headSize/2) of each head (rotate_half); llama2.c's run.c and llama.cpp rotate adjacent pairs (2i, 2i+1).
/// Converters (transformers' convert_llama_weights_to_hf, llama.cpp's convert_hf_to_gguf) permute the rows within
/// each head so that attention is unchanged: interleaved row 2i + j is HF row j·headSize/2 + i (j ∈ {0, 1}).
/// q·k is invariant under a permutation shared by q and k, and v/o need nothing.
/// <para>Rows are moved whole, so the same code serves f32 rows and rows of quantized blocks (a row is then
/// <c>rowLength</c> bytes).</para>
/// </summary>
internal static class RopeRowOrder
{
    /// <summary>Interleaved (llama2.c, GGUF) to HF halves: HF row j·half + i ← row 2i + j, head by head.</summary>
    public static void InterleavedToHalves<T>(ReadOnlySpan<T> source, Span<T> destination, int rows, int rowLength, int headSize) =>
        Permute(source, destination, rows, rowLength, headSize, toHalves: true);

    /// <summary>HF halves to interleaved (what llama.cpp's converter writes): row 2i + j ← HF row j·half + i.</summary>
    public static void HalvesToInterleaved<T>(ReadOnlySpan<T> source, Span<T> destination, int rows, int rowLength, int headSize) =>
        Permute(source, destination, rows, rowLength, headSize, toHalves: false);

    private static void Permute<T>(ReadOnlySpan<T> source, Span<T> destination, int rows, int rowLength, int headSize, bool toHalves)
    {
        if (headSize <= 0 || headSize % 2 != 0 || rows % headSize != 0)
            throw new ArgumentException($"{rows} rows do not split into heads of an even size {headSize}");
        if (source.Length != (long)rows * rowLength || destination.Length != source.Length)
            throw new ArgumentException($"[{rows}, {rowLength}] takes {(long)rows * rowLength} values; got {source.Length} and {destination.Length}");
        int half = headSize / 2;
        for (int head = 0; head < rows / headSize; head++)
        for (int i = 0; i < half; i++)
        for (int j = 0; j < 2; j++)
        {
            int interleaved = head * headSize + 2 * i + j, halves = head * headSize + j * half + i;
            (int from, int to) = toHalves ? (interleaved, halves) : (halves, interleaved);
            source.Slice(from * rowLength, rowLength).CopyTo(destination.Slice(to * rowLength, rowLength));
        }
    }
}
