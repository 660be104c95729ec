using System.Text.Json;

namespace Vivace.Tokenizers.Models;

/// <summary>"WordLevel": each word is one token, or the unknown token when it is not in the vocabulary.</summary>
internal sealed class WordLevel : IModel
{
    private readonly Vocabulary _vocab;

    public WordLevel(Vocabulary vocab, string unkToken)
    {
        _vocab = vocab;
        UnkToken = unkToken;
        UnkId = vocab.TryGetId(unkToken, out int id) ? id : null;
    }

    public string UnkToken { get; }
    public int? UnkId { get; }
    public int VocabSize => _vocab.Count;

    public int? TokenToId(ReadOnlySpan<char> token) => _vocab.TryGetId(token, out int id) ? id : null;

    public string? IdToToken(int id) => _vocab.GetToken(id);

    public void Tokenize(ReadOnlySpan<char> word, List<ModelToken> output)
    {
        if (word.IsEmpty) return;
        if (_vocab.TryGetId(word, out int id)) output.Add(new ModelToken(id, 0, word.Length));
        else if (UnkId is int unk) output.Add(new ModelToken(unk, 0, word.Length));
        else throw new InvalidOperationException($"WordLevel: '{word}' is not in the vocabulary and unk_token '{UnkToken}' is missing.");
    }

    public static WordLevel FromJson(JsonElement e)
    {
        var entries = new List<KeyValuePair<string, int>>();
        foreach (var p in e.GetProperty("vocab").EnumerateObject())
            entries.Add(new(p.Name, p.Value.GetInt32()));
        return new WordLevel(new Vocabulary(entries), JsonRead.String(e, "unk_token") ?? "<unk>");
    }
}
