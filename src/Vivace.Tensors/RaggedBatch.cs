namespace Vivace.Tensors;

/// <summary>Sequences of different lengths concatenated along the token axis.</summary>
public sealed class RaggedBatch
{
    private readonly int[] _offsets;

    /// <summary>Builds the batch from each sequence's length.</summary>
    public RaggedBatch(ReadOnlySpan<int> lengths)
    {
        _offsets = new int[lengths.Length + 1];
        for (int i = 0; i < lengths.Length; i++)
        {
            if (lengths[i] < 0) throw new ArgumentException($"sequence {i} has negative length {lengths[i]}");
            _offsets[i + 1] = checked(_offsets[i] + lengths[i]);
            MaxLength = Math.Max(MaxLength, lengths[i]);
        }
    }

    public int Count => _offsets.Length - 1;
    public int TotalTokens => _offsets[^1];
    public int MaxLength { get; }
    /// <summary>First token of sequence i in the concatenation.</summary>
    public int Start(int i) => _offsets[i];
    public int Length(int i) => _offsets[i + 1] - _offsets[i];
    /// <summary>Count + 1 offsets: sequence i spans [Offsets[i], Offsets[i+1]).</summary>
    public ReadOnlySpan<int> Offsets => _offsets;
}
