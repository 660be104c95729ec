namespace Vivace.Tokenizers.Normalizers;

/// <summary>Applies normalizers in order ("Sequence").</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<INormalizer> normalizers) : INormalizer
{
    /// <summary>An array, so the per-encode loops over it allocate no enumerator.</summary>
    public INormalizer[] Normalizers { get; } = [.. normalizers];

    public void Normalize(NormalizedString text)
    {
        foreach (var n in Normalizers) n.Normalize(text);
    }
}
