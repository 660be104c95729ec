using Vivace.Tests;

namespace Vivace.Formats.Tests;

public class HfConfigTests
{
    private const string Bert = """
        {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": 768, "layer_norm_eps": 1e-12,
         "num_attention_heads": 12, "hidden_act": "gelu", "use_cache": true, "pad_token_id": null,
         "rope_scaling": {"factor": 2.0, "type": "linear"}, "eos_token_id": [1, 2], "n_ctx": 1024.0}
        """;

    [Fact]
    public void TypedGetters()
    {
        HfConfig c = HfConfig.Parse(Bert, "bert/config.json");
        Assert.Equal("bert", c.ModelType);
        Assert.Equal(["BertModel"], c.Architectures);
        Assert.Equal(768, c.GetInt("hidden_size"));
        Assert.Equal(1e-12f, c.GetFloat("layer_norm_eps"));
        Assert.Equal(768f, c.GetFloat("hidden_size"));
        Assert.Equal("gelu", c.GetString("hidden_act"));
        Assert.True(c.GetBool("use_cache"));
        Assert.Null(c.TryGetInt("pad_token_id")); // null counts as absent
        Assert.Null(c.TryGetInt("intermediate_size"));
        Assert.Equal(3072, c.GetInt("intermediate_size", 3072));
        Assert.Null(c.GetString("absent"));
        Assert.Null(c.GetBool("absent"));
        Assert.Equal(2.0f, c.GetFloat("rope_scaling.factor"));
        Assert.Equal([1, 2], c.TryGetIntList("eos_token_id")!);
        Assert.Equal(1024, c.GetInt("n_ctx"));
        Assert.Equal(System.Text.Json.JsonValueKind.Object, c.Root.ValueKind);
        Assert.True(c.Has("hidden_size"));
        Assert.False(c.Has("pad_token_id"));
    }

    [Fact]
    public void AliasesForDistilBertNames()
    {
        HfConfig c = HfConfig.Parse("""{"model_type": "distilbert", "dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072}""");
        Assert.Equal(768, c.GetInt("hidden_size", "dim"));
        Assert.Equal(6, c.GetIntAny("num_hidden_layers", "n_layers"));
        Assert.Equal(12, c.GetInt("num_attention_heads", "n_heads"));
        Assert.Equal(3072, c.GetInt("intermediate_size", "hidden_dim"));
        Assert.Null(c.TryGetIntAny("n_embd", "d_model"));
        var e = Assert.Throws<ModelFormatException>(() => c.GetIntAny("n_embd", "d_model"));
        Assert.Equal("n_embd", e.Field);
        Assert.Contains("d_model", e.Message);
    }

    [Theory]
    [InlineData("""{"hidden_size": "abc"}""", "hidden_size", "expected an integer, got string \"abc\"")]
    [InlineData("""{"hidden_size": 7.5}""", "hidden_size", "expected an integer")]
    [InlineData("""{"hidden_size": 1e300}""", "hidden_size", "expected an integer")]
    [InlineData("""{"hidden_size": true}""", "hidden_size", "expected an integer")]
    [InlineData("""{"hidden_size": [1]}""", "hidden_size", "expected an integer")]
    public void WrongIntegerTypes(string json, string field, string expected)
    {
        HfConfig c = HfConfig.Parse(json, "/models/x/config.json");
        var e = Assert.Throws<ModelFormatException>(() => c.GetInt(field));
        Assert.Equal(field, e.Field);
        Assert.Equal("/models/x/config.json", e.FilePath);
        Assert.Contains(expected, e.Message);
        Assert.Contains("/models/x/config.json", e.Message);
        Assert.Contains("hidden_size", e.Message);
        Assert.Throws<ModelFormatException>(() => c.TryGetInt(field));
    }

    [Fact]
    public void OtherWrongTypes()
    {
        HfConfig c = HfConfig.Parse("""{"eps": "small", "act": 3, "flag": "yes", "architectures": "BertModel", "model_type": 1}""", "c.json");
        Assert.Equal("eps", Assert.Throws<ModelFormatException>(() => c.GetFloat("eps")).Field);
        Assert.Equal("act", Assert.Throws<ModelFormatException>(() => c.GetString("act")).Field);
        Assert.Equal("flag", Assert.Throws<ModelFormatException>(() => c.GetBool("flag")).Field);
        Assert.Equal("architectures", Assert.Throws<ModelFormatException>(() => c.Architectures).Field);
        Assert.Equal("model_type", Assert.Throws<ModelFormatException>(() => c.ModelType).Field);
    }

    [Fact]
    public void MissingRequiredFields()
    {
        HfConfig c = HfConfig.Parse("{}", "empty/config.json");
        var e = Assert.Throws<ModelFormatException>(() => c.GetInt("num_hidden_layers"));
        Assert.Equal("num_hidden_layers", e.Field);
        Assert.Contains("missing", e.Message);
        Assert.Contains("empty/config.json", e.Message);
        Assert.Equal("model_type", Assert.Throws<ModelFormatException>(() => c.ModelType).Field);
        Assert.Empty(c.Architectures);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"a\": ")]
    [InlineData("")]
    public void NotAnObject(string json)
    {
        var e = Assert.Throws<ModelFormatException>(() => HfConfig.Parse(json, "bad.json"));
        Assert.Equal("bad.json", e.FilePath);
    }

    [Fact]
    public void LoadNamesMissingFile()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ModelFormatException>(() => HfConfig.Load(dir.Path));
        Assert.EndsWith("config.json", e.FilePath);
        File.WriteAllText(dir.File("config.json"), """{"model_type": "gpt2", "n_embd": 64}""");
        HfConfig c = HfConfig.Load(dir.Path);
        Assert.Equal("gpt2", c.ModelType);
        Assert.Equal(Path.GetFullPath(dir.File("config.json")), c.Source);
    }

    [Fact]
    public void FromValuesRoundTripsThroughJson()
    {
        HfConfig c = HfConfig.FromValues([new("hidden_size", 32), new("layer_norm_eps", 1e-12f), new("architectures", new[] { "BertModel" })], "synth");
        HfConfig again = HfConfig.Parse(c.ToJson(), "again");
        Assert.Equal(32, again.GetInt("hidden_size"));
        Assert.Equal(1e-12f, again.GetFloat("layer_norm_eps"));
        Assert.Equal(["BertModel"], again.Architectures);
    }

    [SkippableFact]
    public void LoadsGoldenConfigs()
    {
        string dir = SharedData.Require("goldens", "distilbert-small");
        HfConfig c = HfConfig.Load(dir);
        Assert.Equal("distilbert", c.ModelType);
        Assert.True(c.GetInt("hidden_size", "dim") > 0);
        Assert.True(c.GetIntAny("num_hidden_layers", "n_layers") > 0);
        HfConfig bert = HfConfig.Load(SharedData.Require("goldens", "bert-small", "config.json"));
        Assert.Equal(32, bert.GetInt("hidden_size"));
        Assert.Equal(1e-12f, bert.GetFloat("layer_norm_eps"));
        Assert.Null(bert.TryGetInt("bos_token_id"));
    }
}
