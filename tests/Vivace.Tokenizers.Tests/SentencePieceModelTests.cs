using System.Text.Json;
using Vivace.Tokenizers.SentencePiece;

namespace Vivace.Tokenizers.Tests;

/// <summary>
/// A SentencePiece <c>.model</c> (stories260K's tok512.model) through <see cref="Tokenizer.FromSentencePieceModel(string)"/>:
/// the same 512 pieces and scores as llama2.c's tok512.bin export of it, and the same ids and text.
/// </summary>
public class SentencePieceModelTests
{
    private static string Model() => Oracle.Path("llama2c-stories260K/tok512.model");
    private static string Bin() => Oracle.Path("llama2c-stories260K/tok512.bin");

    [SkippableFact]
    public void ModelFileFieldsAreRead()
    {
        SentencePieceModelFile spm = SentencePieceModelFile.Read(Model());
        Assert.Equal(512, spm.Pieces.Count);
        Assert.Equal(2, spm.ModelType); // BPE
        Assert.True(spm.ByteFallback);
        Assert.Equal((0, 1, 2), (spm.UnkId, spm.BosId, spm.EosId));
        Assert.Equal("identity", spm.NormalizerName);
        Assert.True(spm.AddDummyPrefix);
        Assert.True(spm.RemoveExtraWhitespaces); // the proto default; llama2.c's training did not turn it off
        Assert.Equal(new SentencePieceEntry("<unk>", 0, SentencePieceType.Unknown), spm.Pieces[0]);
        Assert.Equal(SentencePieceType.Control, spm.Pieces[1].Type);
        Assert.Equal(new SentencePieceEntry("<0x0A>", 0, SentencePieceType.Byte), spm.Pieces[13]);
    }

    [SkippableFact]
    public void PiecesAndScoresEqualTheLlama2cExport()
    {
        SentencePieceModelFile spm = SentencePieceModelFile.Read(Model());
        Tokenizer bin = Tokenizer.FromLlama2c(Bin()), model = Tokenizer.FromSentencePieceModel(spm);
        Assert.Equal(bin.VocabSize, model.VocabSize);
        for (int id = 0; id < 512; id++) Assert.Equal(bin.IdToToken(id), model.IdToToken(id));
        // Scores: tok512.bin stores them as float32 after the 4-byte max length, one (score, len, bytes) per token.
        using var r = new BinaryReader(File.OpenRead(Bin()));
        r.ReadInt32();
        for (int id = 0; id < 512; id++)
        {
            Assert.Equal(r.ReadSingle(), spm.Pieces[id].Score);
            r.ReadBytes(r.ReadInt32());
        }
    }

    [SkippableFact]
    public void EncodesAndDecodesAsTheLlama2cTokenizer()
    {
        Tokenizer bin = Tokenizer.FromLlama2c(Bin()), model = Tokenizer.FromSentencePieceModel(Model());
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Oracle.Path("llama2c-stories260K/expected_output.json")));
        string story = doc.RootElement.GetProperty("expected_text").GetString()!;
        foreach (string text in new[] { story, "", "héllo wörld 😀 生活", "line\nbreak\ttab", "a\n b" })
        {
            int[] ids = model.Encode(text).Ids;
            Assert.Equal(bin.Encode(text).Ids, ids);
            Assert.Equal(bin.Decode(ids), model.Decode(ids));
        }
        Assert.Equal(story, model.Decode(model.Encode(story).Ids));
        // SentencePiece folds extra spaces (remove_extra_whitespaces); run.c, and so tokenizer.bin, does not.
        Assert.Equal(bin.Encode("two spaces").Ids, model.Encode("  two   spaces ").Ids);
        Assert.Equal(bin.Encode("").Ids, model.Encode("   ").Ids);
        Assert.NotEqual(bin.Encode("two spaces").Ids, bin.Encode("  two   spaces ").Ids);
    }

    [Fact]
    public void GarbageIsRejected()
    {
        Assert.Throws<InvalidDataException>(() => SentencePieceModelFile.Parse([0x0A, 0x7F, 0x01], "bad.model"));
        Assert.Throws<InvalidDataException>(() => SentencePieceModelFile.Parse([], "empty.model"));
    }
}
