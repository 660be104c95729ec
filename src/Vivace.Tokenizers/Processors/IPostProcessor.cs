namespace Vivace.Tokenizers.Processors;

/// <summary>Adds special tokens and type ids around one sequence or a pair.</summary>
internal interface IPostProcessor
{
    /// <summary>How many tokens <see cref="Process"/> adds (truncation leaves room for them).</summary>
    int AddedTokens(bool isPair);

    /// <summary>Writes the final token list for <paramref name="a"/> (and <paramref name="b"/>) to <paramref name="output"/>.</summary>
    void Process(List<TokenEntry> a, List<TokenEntry>? b, bool addSpecialTokens, List<TokenEntry> output);
}

/// <summary>What happens without a post-processor: the sequences are concatenated as they are.</summary>
internal sealed class ConcatenateProcessor : IPostProcessor
{
    public static readonly ConcatenateProcessor Instance = new();

    public int AddedTokens(bool isPair) => 0;

    public void Process(List<TokenEntry> a, List<TokenEntry>? b, bool addSpecialTokens, List<TokenEntry> output)
    {
        output.AddRange(a);
        if (b != null) output.AddRange(b);
    }
}
