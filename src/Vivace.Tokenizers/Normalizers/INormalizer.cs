namespace Vivace.Tokenizers.Normalizers;

/// <summary>A normalization step; rewrites the text in place, keeping alignments to the original.</summary>
internal interface INormalizer
{
    void Normalize(NormalizedString text);
}
