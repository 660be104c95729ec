namespace Vivace.Tokenizers.Decoders;

/// <summary>Python transformers' clean_up_tokenization: removes spaces before punctuation and contractions
/// over the whole decoded text.</summary>
internal static class TokenizationSpaces
{
    private static readonly (string From, string To)[] Replacements =
    [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ];

    public static string CleanUp(string text)
    {
        foreach (var (from, to) in Replacements) text = text.Replace(from, to, StringComparison.Ordinal);
        return text;
    }
}
