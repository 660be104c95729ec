using System.Text.Json;

namespace Vivace.Tokenizers.Tests;

/// <summary>llama2.c's tokenizer.bin (tok512.bin of stories260K) through <see cref="Tokenizer.FromLlama2c"/>.</summary>
public class Llama2cTokenizerTests
{
    private static string Tok512() => Oracle.Path("llama2c-stories260K/tok512.bin");

    private static string ExpectedText()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Oracle.Path("llama2c-stories260K/expected_output.json")));
        return doc.RootElement.GetProperty("expected_text").GetString()!;
    }

    /// <summary>The first ids stories260K generates from BOS (run.c greedy), which print "Once upon a time, there was a little girl".</summary>
    private static readonly int[] StoryStart = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421];

    [SkippableFact]
    public void VocabularyIsSentencePieces()
    {
        Tokenizer tok = Tokenizer.FromLlama2c(Tok512());
        Assert.Equal(512, tok.VocabSize);
        Assert.Equal("<unk>", tok.IdToToken(0));
        Assert.Equal("<s>", tok.IdToToken(1));   // stored as "\n<s>\n" by llama2.c's export
        Assert.Equal("</s>", tok.IdToToken(2));
        Assert.Equal("<0x0A>", tok.IdToToken(13));
        Assert.StartsWith("\u2581", tok.IdToToken(403)); // "▁" stored as " " in the file, restored here
        Assert.Equal(512, Tokenizer.FromLlama2c(Tok512(), vocabSize: 512).VocabSize);
    }

    [SkippableFact]
    public void DecodeFollowsRunC()
    {
        Tokenizer tok = Tokenizer.FromLlama2c(Tok512());
        // BOS is skipped and the leading space of the piece after it stripped; <0x0A> is a raw newline byte.
        Assert.Equal("Once upon a time, there was a little girl", tok.Decode(StoryStart));
        Assert.Equal("Once\n upon", tok.Decode([1, 403, 13, 407]));
    }

    [SkippableFact]
    public void EncodeGivesTheIdsTheModelGenerates()
    {
        Tokenizer tok = Tokenizer.FromLlama2c(Tok512());
        Assert.Equal(StoryStart, tok.Encode("Once upon a time, there was a little girl").Ids);
    }

    [SkippableFact]
    public void ExpectedStoryRoundTrips()
    {
        Tokenizer tok = Tokenizer.FromLlama2c(Tok512());
        string text = ExpectedText();
        int[] ids = tok.Encode(text).Ids;
        Assert.Equal(1, ids[0]);
        Assert.Equal(text, tok.Decode(ids));
    }

    [SkippableFact]
    public void TruncatedFileIsRejected()
    {
        byte[] bytes = File.ReadAllBytes(Tok512());
        string path = Path.Combine(Path.GetTempPath(), $"vivace-tok-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 3).ToArray());
        try { Assert.Throws<InvalidDataException>(() => Tokenizer.FromLlama2c(path)); }
        finally { File.Delete(path); }
    }
}
