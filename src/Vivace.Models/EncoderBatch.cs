using Vivace.Tensors;

namespace Vivace.Models;

/// <summary>
/// The input of an encoder: sequences concatenated token after token (no padding), with for each token its
/// id, its segment (token type) and its column in the padded row it came from, which absolute and relative
/// position encodings are computed from.
/// </summary>
public sealed class EncoderBatch
{
    public RaggedBatch Sequences { get; }
    public int[] InputIds { get; }
    public int[] TokenTypeIds { get; }
    public int[] Columns { get; }

    private EncoderBatch(RaggedBatch sequences, int[] inputIds, int[] tokenTypeIds, int[] columns)
    {
        Sequences = sequences;
        InputIds = inputIds;
        TokenTypeIds = tokenTypeIds;
        Columns = columns;
    }

    /// <summary>A batch of unpadded sequences (token type ids default to 0).</summary>
    public static EncoderBatch FromSequences(IReadOnlyList<int[]> inputIds, IReadOnlyList<int[]>? tokenTypeIds = null)
    {
        if (tokenTypeIds != null && tokenTypeIds.Count != inputIds.Count)
            throw new ArgumentException($"{inputIds.Count} sequences of input ids but {tokenTypeIds.Count} of token type ids");
        var lengths = new int[inputIds.Count];
        for (int i = 0; i < lengths.Length; i++)
        {
            lengths[i] = inputIds[i].Length;
            if (tokenTypeIds != null && tokenTypeIds[i].Length != lengths[i])
                throw new ArgumentException($"sequence {i}: {lengths[i]} input ids but {tokenTypeIds[i].Length} token type ids");
        }
        var sequences = new RaggedBatch(lengths);
        int total = sequences.TotalTokens;
        var ids = new int[total];
        var types = new int[total];
        var columns = new int[total];
        for (int i = 0; i < lengths.Length; i++)
        {
            int start = sequences.Start(i);
            inputIds[i].CopyTo(ids, start);
            tokenTypeIds?[i].CopyTo(types, start);
            for (int t = 0; t < lengths[i]; t++) columns[start + t] = t;
        }
        return new EncoderBatch(sequences, ids, types, columns);
    }

    /// <summary>
    /// A padded batch as transformers takes it (<c>[batch, seq]</c> row-major): tokens whose attention mask is 0
    /// are dropped, so they cost nothing and nobody attends to them; the kept tokens remember their column.
    /// </summary>
    public static EncoderBatch FromPadded(int batch, int seqLen, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> attentionMask,
        ReadOnlySpan<long> tokenTypeIds = default)
    {
        long cells = (long)batch * seqLen;
        if (batch < 0 || seqLen < 0) throw new ArgumentException($"invalid batch shape [{batch}, {seqLen}]");
        if (inputIds.Length != cells) throw new ArgumentException($"input_ids has {inputIds.Length} values, expected {batch}×{seqLen}");
        if (attentionMask.Length != cells) throw new ArgumentException($"attention_mask has {attentionMask.Length} values, expected {batch}×{seqLen}");
        if (!tokenTypeIds.IsEmpty && tokenTypeIds.Length != cells)
            throw new ArgumentException($"token_type_ids has {tokenTypeIds.Length} values, expected {batch}×{seqLen}");
        var lengths = new int[batch];
        int total = 0;
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < seqLen; c++)
            {
                long m = attentionMask[b * seqLen + c];
                if (m is not (0 or 1)) throw new ArgumentException($"attention_mask[{b}][{c}] is {m}; it must be 0 or 1");
                if (m == 1) { lengths[b]++; total++; }
            }
        var ids = new int[total];
        var types = new int[total];
        var columns = new int[total];
        int k = 0;
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < seqLen; c++)
            {
                int cell = b * seqLen + c;
                if (attentionMask[cell] == 0) continue;
                long id = inputIds[cell];
                if (id < 0 || id > int.MaxValue) throw new ArgumentException($"input_ids[{b}][{c}] = {id} is not a valid token id");
                ids[k] = (int)id;
                if (!tokenTypeIds.IsEmpty)
                {
                    long t = tokenTypeIds[cell];
                    if (t < 0 || t > int.MaxValue) throw new ArgumentException($"token_type_ids[{b}][{c}] = {t} is not valid");
                    types[k] = (int)t;
                }
                columns[k] = c;
                k++;
            }
        return new EncoderBatch(new RaggedBatch(lengths), ids, types, columns);
    }

    /// <summary>Spreads ragged rows <c>[tokens, dim]</c> back to a padded <c>[batch, seqLen, dim]</c> (zeros at padding).</summary>
    public float[] ToPadded(Tensor rows, int seqLen)
    {
        int dim = rows.Shape[-1];
        var padded = new float[(long)Sequences.Count * seqLen * dim];
        ReadOnlySpan<float> src = rows.AsSpan();
        for (int b = 0; b < Sequences.Count; b++)
        {
            int start = Sequences.Start(b);
            for (int t = 0; t < Sequences.Length(b); t++)
                src.Slice((start + t) * dim, dim).CopyTo(padded.AsSpan((b * seqLen + Columns[start + t]) * dim, dim));
        }
        return padded;
    }
}
