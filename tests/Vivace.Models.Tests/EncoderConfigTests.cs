using Vivace.Formats;

namespace Vivace.Models.Tests;

public class EncoderConfigTests
{
    private static EncoderConfig Parse(string json) => EncoderConfig.FromHf(HfConfig.Parse(json, "test/config.json"));

    private const string Bert = """
        {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
         "intermediate_size": 64, "max_position_embeddings": 128, "vocab_size": 1000 REPLACE}
        """;

    [Fact]
    public void ReadsBertAndDistilBertFieldNames()
    {
        EncoderConfig bert = Parse(Bert.Replace("REPLACE", ""));
        Assert.Equal((32, 2, 4, 64, 8), (bert.HiddenSize, bert.Layers, bert.Heads, bert.IntermediateSize, bert.HeadDim));
        EncoderConfig distil = Parse("""{"model_type": "distilbert", "dim": 32, "n_layers": 3, "n_heads": 2, "hidden_dim": 37, "max_position_embeddings": 64, "vocab_size": 99, "activation": "relu"}""");
        Assert.Equal((32, 3, 2, 37), (distil.HiddenSize, distil.Layers, distil.Heads, distil.IntermediateSize));
        Assert.Equal(Vivace.Tensors.Activation.Relu, distil.HiddenActivation);
    }

    [Theory]
    [InlineData(""", "hidden_act": "swishy" """, "hidden_act")]
    [InlineData(""", "position_embedding_type": "relative_key" """, "position_embedding_type")]
    [InlineData(""", "num_attention_heads": 5 """, "num_attention_heads")]
    [InlineData(""", "layer_norm_eps": -1 """, "layer_norm_eps")]
    public void UnsupportedOrInconsistentValuesNameTheField(string extra, string field)
    {
        string json = Bert.Replace("REPLACE", extra);
        if (extra.Contains("num_attention_heads")) json = json.Replace("\"num_attention_heads\": 4,", "");
        var e = Assert.ThrowsAny<ModelFormatException>(() => Parse(json));
        Assert.Contains(field, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void UnknownArchitectureIsAnError()
    {
        var e = Assert.ThrowsAny<ModelFormatException>(() => Parse("""{"model_type": "llama"}"""));
        Assert.Contains("llama", e.Message);
        Assert.Contains("model_type", e.Message);
    }

    [Fact]
    public void MissingFieldIsAnError()
    {
        var e = Assert.ThrowsAny<ModelFormatException>(() => Parse("""{"model_type": "bert", "hidden_size": 32}"""));
        Assert.Contains("config.json", e.Message);
    }
}
