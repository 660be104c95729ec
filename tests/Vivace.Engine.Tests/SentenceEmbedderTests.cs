namespace Vivace.Engine.Tests;

public class SentenceEmbedderTests(MiniLmFixture fixture) : IClassFixture<MiniLmFixture>
{
    private SentenceEmbedder Embedder => fixture.Embedder;

    [Fact]
    public void DefaultModelHasSentenceTransformersShape()
    {
        Assert.Equal(384, Embedder.Dimensions);
        Assert.Equal(256, Embedder.MaxInputTokens);
        float[] v = Embedder.Embed(["Hello world"])[0];
        Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 5);
    }

    [Fact]
    public void BatchedEqualsAlone()
    {
        string[] texts = ["short", "a somewhat longer sentence with more tokens in it", "", "Über café naïve — 東京 🙂", "x"];
        float[][] batched = Embedder.Embed(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            float[] alone = Embedder.Embed([texts[i]])[0];
            for (int j = 0; j < alone.Length; j++)
                Assert.True(Math.Abs(alone[j] - batched[i][j]) <= 1e-6, $"text {i} dim {j}: {alone[j]} alone vs {batched[i][j]} batched");
        }
    }

    [Fact]
    public void LongInputsAreTruncatedToMaxSeqLengthOrRejected()
    {
        string longText = string.Join(' ', Enumerable.Repeat("word", 1000));
        Assert.Equal(256, Embedder.Tokenize(longText).Ids.Length);
        float[] truncated = Embedder.Embed([longText])[0];
        float[] prefix = Embedder.Embed([string.Join(' ', Enumerable.Repeat("word", 254))])[0];
        for (int j = 0; j < truncated.Length; j++) Assert.Equal(prefix[j], truncated[j], 1e-6f);

        var e = Assert.Throws<InvalidInputException>(() => Embedder.Embed([longText], new EmbedOptions { Truncate = false }));
        Assert.True(e.TooLong);
        Assert.Contains("256", e.Message);
    }

    [Fact]
    public void LeftTruncationKeepsTheEnd()
    {
        string text = "alpha " + string.Join(' ', Enumerable.Repeat("word", 400)) + " omega";
        var tokens = Embedder.Tokenize(text, new EmbedOptions { TruncationDirection = Tokenizers.TruncationDirection.Left });
        Assert.Equal(256, tokens.Ids.Length);
        Assert.Equal("omega", tokens.Tokens[^2]);
        Assert.Equal("[CLS]", tokens.Tokens[0]);
    }

    [Fact]
    public void TokenIdsOutsideTheVocabularyAreRejected()
    {
        Assert.Throws<InvalidInputException>(() => Embedder.EmbedTokens([[101, 999999, 102]]));
    }

    [Fact]
    public void UnknownModelIsAClearError()
    {
        var e = Assert.ThrowsAny<Formats.ModelFormatException>(() => SentenceEmbedder.Load("no/such-model"));
        Assert.Contains("no/such-model", e.Message);
    }
}
