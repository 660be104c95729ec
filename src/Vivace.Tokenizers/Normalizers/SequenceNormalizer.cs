namespace Vivace.Tokenizers.Normalizers;

/// <summary>Applies normalizers in order ("Sequence").</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<INormalizer> normalizers) : INormalizer
{
    public IReadOnlyList<INormalizer> Normalizers { get; } = normalizers;

    public void Normalize(NormalizedString text)
    {
        foreach (var n in Normalizers) n.Normalize(text);
    }
}
