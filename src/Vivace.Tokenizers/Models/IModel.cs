namespace Vivace.Tokenizers.Models;

/// <summary>A token from a model: id and [Start, End) within the word it came from.</summary>
internal readonly record struct ModelToken(int Id, int Start, int End);

/// <summary>Turns one pre-tokenized word into token ids.</summary>
internal interface IModel
{
    /// <summary>Appends the tokens of <paramref name="word"/> to <paramref name="output"/>.</summary>
    void Tokenize(ReadOnlySpan<char> word, List<ModelToken> output);

    int? TokenToId(ReadOnlySpan<char> token);

    string? IdToToken(int id);

    int VocabSize { get; }
}
