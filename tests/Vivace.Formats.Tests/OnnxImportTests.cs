using Vivace.Formats.Onnx;
using Vivace.Formats.Packaged;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Formats.Tests;

/// <summary>The packaged MiniLM model.onnx, parsed once for all tests.</summary>
public sealed class MiniLmOnnxFixture : IDisposable
{
    private readonly Lazy<(byte[] Bytes, OnnxWeightSource Weights)> _value = new(() =>
    {
        string dll = DefaultModels.FindMiniLmAssembly();
        byte[] bytes = ManifestResourceReader.ReadAll(dll, ManifestResourceReader.Find(dll, "model.onnx"));
        return (bytes, OnnxWeightSource.FromBytes(bytes, "MiniLM model.onnx"));
    });

    public byte[] Bytes => _value.Value.Bytes;
    public OnnxWeightSource Weights => _value.Value.Weights;

    public void Dispose()
    {
        if (_value.IsValueCreated) _value.Value.Weights.Dispose();
    }
}

public class OnnxImportTests(MiniLmOnnxFixture miniLm) : IClassFixture<MiniLmOnnxFixture>
{
    [Fact]
    public void MiniLmNamesAreExactlyThoseOfABertModel()
    {
        OnnxWeightSource w = miniLm.Weights;
        Assert.Equal(BertNames.BertModel(layers: 6).Order(), w.Names.Order());
        Assert.Null(w.StrippedPrefix);
        Assert.Contains("embeddings.position_ids", w.UnmappedInitializers); // an int64 buffer, not a parameter
    }

    [Fact]
    public void MiniLmShapesAreInHfLayout()
    {
        OnnxWeightSource w = miniLm.Weights;
        Assert.Equal(new Shape(30522, 384), w.GetInfo("embeddings.word_embeddings.weight").Shape);
        Assert.Equal(new Shape(512, 384), w.GetInfo("embeddings.position_embeddings.weight").Shape);
        Assert.Equal(new Shape(2, 384), w.GetInfo("embeddings.token_type_embeddings.weight").Shape);
        for (int l = 0; l < 6; l++)
        {
            foreach (string m in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
                Assert.Equal(new Shape(384, 384), w.GetInfo($"encoder.layer.{l}.{m}.weight").Shape);
            Assert.Equal(new Shape(1536, 384), w.GetInfo($"encoder.layer.{l}.intermediate.dense.weight").Shape);
            Assert.Equal(new Shape(384, 1536), w.GetInfo($"encoder.layer.{l}.output.dense.weight").Shape);
            Assert.Equal(new Shape(1536), w.GetInfo($"encoder.layer.{l}.intermediate.dense.bias").Shape);
        }
        Assert.Equal(new Shape(384, 384), w.GetInfo("pooler.dense.weight").Shape);
        Tensor t = w.Get("encoder.layer.3.output.dense.weight");
        Assert.Equal(new Shape(384, 1536), t.Shape);
        Assert.Equal(DType.F32, t.DType);
        Assert.True(t.IsContiguous);
        Assert.Equal("encoder.layer.3.output.dense.weight", t.Name);
    }

    [Fact]
    public void MiniLmLinearWeightsAreTheTransposedAnonymousInitializers()
    {
        OnnxWeightSource w = miniLm.Weights;
        const string name = "encoder.layer.0.intermediate.dense.weight";
        string source = w.SourceName(name);
        Assert.Matches("^[0-9]+$", source); // anonymous in the export
        Assert.True(w.IsTransposed(name));
        Assert.False(w.IsTransposed("pooler.dense.weight")); // Gemm with transB = 1 stores [out, in]

        OnnxModelProto model = OnnxModelFile.Parse(miniLm.Bytes, "m");
        OnnxTensorProto init = model.Graph!.Initializers.Single(t => t.Name == source);
        Assert.Equal([384L, 1536L], init.Dims);
        float[] stored = OnnxTensorData.ToFloats(init, "m", null);
        float[] hf = w.Get(name).AsSpan().ToArray();
        var rng = new Random(5);
        for (int k = 0; k < 200; k++)
        {
            int o = rng.Next(1536), i = rng.Next(384);
            Assert.Equal(stored[i * 1536 + o], hf[o * 384 + i]);
        }
        // Distinct layers get distinct matrices.
        Assert.NotEqual(w.SourceName("encoder.layer.0.attention.self.query.weight"), w.SourceName("encoder.layer.0.attention.self.key.weight"));
    }

    [Fact]
    public void MiniLmConfigIsInferredFromTheGraph()
    {
        HfConfig c = miniLm.Weights.InferBertConfig();
        Assert.Equal("bert", c.ModelType);
        Assert.Equal(["BertModel"], c.Architectures);
        Assert.Equal(384, c.GetInt("hidden_size"));
        Assert.Equal(12, c.GetInt("num_attention_heads"));
        Assert.Equal(1536, c.GetInt("intermediate_size"));
        Assert.Equal(6, c.GetInt("num_hidden_layers"));
        Assert.Equal(30522, c.GetInt("vocab_size"));
        Assert.Equal(512, c.GetInt("max_position_embeddings"));
        Assert.Equal(2, c.GetInt("type_vocab_size"));
        Assert.Equal(1e-12f, c.GetFloat("layer_norm_eps"));
        Assert.Equal("gelu", c.GetString("hidden_act"));
        Assert.Equal(0, c.GetInt("pad_token_id"));
    }

    [Fact]
    public void MissingWeightNamesTheFileAndTheTensor()
    {
        var e = Assert.Throws<ModelFormatException>(() => miniLm.Weights.Get("encoder.layer.6.output.dense.weight"));
        Assert.Equal("encoder.layer.6.output.dense.weight", e.Field);
        Assert.Contains("MiniLM model.onnx", e.Message);
    }

    [SkippableFact]
    public void ToyBertNamesMatchTheExportersOwnNames()
    {
        string path = SharedData.Require("data", "onnxruntime-testdata", "bert_toy_optimized.onnx");
        using OnnxWeightSource w = OnnxWeightSource.Open(path);
        Assert.Equal("bert.", w.StrippedPrefix);
        HashSet<string> names = [.. w.Names];
        Assert.Superset(BertNames.BertModel(layers: 5), names);
        Assert.Contains("cls.predictions.transform.dense.weight", names);
        Assert.Contains("cls.seq_relationship.weight", names);
        Assert.DoesNotContain(names, n => n.EndsWith("_transposed"));
        // The export names its transposed matrices X.weight_transposed: the graph-recovered names must agree.
        foreach (string n in names.Where(n => n.StartsWith("encoder.") && n.EndsWith(".weight") && !n.Contains("LayerNorm")))
        {
            Assert.Equal("bert." + n + "_transposed", w.SourceName(n));
            Assert.True(w.IsTransposed(n));
        }
        Assert.Equal(new Shape(37, 32), w.GetInfo("encoder.layer.4.intermediate.dense.weight").Shape);

        HfConfig c = w.InferBertConfig();
        Assert.Equal(32, c.GetInt("hidden_size"));
        Assert.Equal(4, c.GetInt("num_attention_heads"));
        Assert.Equal(37, c.GetInt("intermediate_size"));
        Assert.Equal(5, c.GetInt("num_hidden_layers"));
        Assert.Equal(99, c.GetInt("vocab_size"));
        Assert.Equal(16, c.GetInt("type_vocab_size"));
        Assert.Equal(512, c.GetInt("max_position_embeddings"));
        Assert.True(c.GetFloat("layer_norm_eps") is > 0 and < 1e-4f);
    }

    [SkippableFact]
    public void PrefixIsKeptWhenAsked()
    {
        string path = SharedData.Require("data", "onnxruntime-testdata", "bert_toy_optimized.onnx");
        using var w = OnnxWeightSource.Open(path, new OnnxImportOptions { StripBasePrefix = false });
        Assert.Null(w.StrippedPrefix);
        Assert.Contains("bert.embeddings.word_embeddings.weight", w.Names);
        Assert.Contains("bert.encoder.layer.0.attention.self.query.weight", w.Names);
        Assert.Throws<ModelFormatException>(() => w.InferBertConfig());
    }

    [Fact]
    public void SyntheticExportUsesGemmExternalDataAndTypedFields()
    {
        using var dir = new TempDir();
        const int hidden = 8, vocab = 5;
        float[] emb = Enumerable.Range(0, vocab * hidden).Select(i => i * 0.5f).ToArray();
        File.WriteAllBytes(dir.File("weights.bin"), [.. new byte[16], .. SafetensorsWriter.F32(emb)]);
        float[] gemmW = Enumerable.Range(0, hidden * 3 * hidden).Select(i => (float)i).ToArray(); // [in=8, out=24], transB = 0
        var b = new OnnxBuilder()
            .Initializer(OnnxBuilder.Tensor("roberta.embeddings.word_embeddings.weight", [vocab, hidden], 1,
                external: ("weights.bin", 16, vocab * hidden * 4)))
            .Initializer(OnnxBuilder.Tensor("roberta.embeddings.position_embeddings.weight", [16, hidden], 1,
                floatData: Enumerable.Range(0, 16 * hidden).Select(i => (float)-i).ToArray()))
            .Initializer(OnnxBuilder.Tensor("roberta.embeddings.LayerNorm.weight", [hidden], 10,
                int32Data: Enumerable.Repeat((long)BitConverter.HalfToUInt16Bits((Half)1.5f), hidden).ToArray()))
            .F32("roberta.encoder.layer.0.attention.self.qkv.bias", [3 * hidden], i => 0)
            .Initializer(OnnxBuilder.Tensor("onnx::Gemm_7", [hidden, 3 * hidden], 1, raw: SafetensorsWriter.F32(gemmW)))
            .F32("roberta.encoder.layer.0.intermediate.dense.bias", [32], i => 0)
            .F32("scale", [], _ => 2f)
            .Node("LayerNormalization", ["x", "roberta.embeddings.LayerNorm.weight"], ["ln"], OnnxBuilder.FloatAttr("epsilon", 1e-5f))
            .Node("Gemm", ["ln", "onnx::Gemm_7", "roberta.encoder.layer.0.attention.self.qkv.bias"], ["qkv"], OnnxBuilder.IntAttr("transB", 0))
            .Node("MatMul", ["q", "k"], ["scores"])
            .Node("Div", ["scores", "scale"], ["scaled"]);
        string path = dir.File("model.onnx");
        File.WriteAllBytes(path, b.Build());

        using IWeightSource ws = WeightSources.Open(dir.Path);
        var w = Assert.IsType<OnnxWeightSource>(ws);
        Assert.Equal("roberta.", w.StrippedPrefix);
        Assert.Equal(emb, w.Get("embeddings.word_embeddings.weight").AsSpan().ToArray());
        Assert.Equal(-17f, w.Get("embeddings.position_embeddings.weight").AsSpan()[17]);
        Assert.Equal(Enumerable.Repeat(1.5f, hidden), w.Get("embeddings.LayerNorm.weight").AsSpan().ToArray());
        Assert.Equal(DType.F16, w.GetRaw("embeddings.LayerNorm.weight").DType);

        Tensor qkv = w.Get("encoder.layer.0.attention.self.qkv.weight");
        Assert.Equal(new Shape(3 * hidden, hidden), qkv.Shape);
        Assert.Equal(gemmW[3 * (3 * hidden) + 5], qkv.AsSpan()[5 * hidden + 3]);

        // Head count from the score scale sqrt(head_dim) = 2 → head_dim 4 → 2 heads; eps from the attribute.
        var g = new OnnxGraphIndex(OnnxModelFile.Load(path).Graph!, path, dir.Path);
        Assert.Equal(2, BertConfigInference.InferHeads(g, hidden));
        Assert.Equal(1e-5f, BertConfigInference.InferLayerNormEpsilon(g));
        HfConfig c = w.InferBertConfig();
        Assert.Equal(hidden, c.GetInt("hidden_size"));
        Assert.Equal(2, c.GetInt("num_attention_heads"));
        Assert.Equal(1e-5f, c.GetFloat("layer_norm_eps"));
        Assert.Equal(32, c.GetInt("intermediate_size")); // from the bias: the export has no intermediate weight
        Assert.Equal(1, c.GetInt("num_hidden_layers"));
        Assert.Equal(vocab, c.GetInt("vocab_size"));
        Assert.Equal(16, c.GetInt("max_position_embeddings"));
        Assert.Equal(2, c.GetInt("type_vocab_size")); // BERT's default when the export has no token types
    }

    [Fact]
    public void ConfigInferenceNamesWhatIsMissing()
    {
        byte[] model = new OnnxBuilder()
            .F32("embeddings.word_embeddings.weight", [4, 8], i => i)
            .F32("embeddings.position_embeddings.weight", [4, 8], i => i)
            .F32("encoder.layer.0.intermediate.dense.bias", [16], i => i)
            .Build();
        using var w = OnnxWeightSource.FromBytes(model, "noheads.onnx");
        var e = Assert.Throws<ModelFormatException>(() => w.InferBertConfig());
        Assert.Equal("num_attention_heads", e.Field);
        Assert.Contains("noheads.onnx", e.Message);

        using var empty = OnnxWeightSource.FromBytes(new OnnxBuilder().Build(), "empty.onnx");
        Assert.Empty(empty.Names);
        Assert.Equal("embeddings.word_embeddings.weight", Assert.Throws<ModelFormatException>(() => empty.InferBertConfig()).Field);
    }

    [Theory]
    [InlineData("../outside.bin", "leaves the model directory")]
    [InlineData("weights.bin", "past the end of the file")]
    public void HostileExternalData(string location, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("weights.bin"), new byte[8]);
        byte[] model = new OnnxBuilder()
            .Initializer(OnnxBuilder.Tensor("embeddings.word_embeddings.weight", [4, 4], 1, external: (location, 0, 64)))
            .Build();
        File.WriteAllBytes(dir.File("model.onnx"), model);
        using var w = OnnxWeightSource.Open(dir.File("model.onnx"));
        var e = Assert.Throws<ModelFormatException>(() => w.Get("embeddings.word_embeddings.weight"));
        Assert.Contains(expected, e.Message);
        Assert.Equal("embeddings.word_embeddings.weight", e.Field);
    }

    [Fact]
    public void RawDataOfTheWrongSizeIsAnError()
    {
        byte[] model = new OnnxBuilder()
            .Initializer(OnnxBuilder.Tensor("a.weight", [3, 3], 1, raw: new byte[35]))
            .Initializer(OnnxBuilder.Tensor("b.weight", [2], 1, floatData: [1f]))
            .Initializer(OnnxBuilder.Tensor("c.weight", [-2, 2], 1, raw: []))
            .Build();
        var e = Assert.Throws<ModelFormatException>(() => OnnxWeightSource.FromBytes(model, "sizes.onnx"));
        Assert.Contains("negative", e.Message);
        model = new OnnxBuilder()
            .Initializer(OnnxBuilder.Tensor("a.weight", [3, 3], 1, raw: new byte[35]))
            .Initializer(OnnxBuilder.Tensor("b.weight", [2], 1, floatData: [1f]))
            .Build();
        using var w = OnnxWeightSource.FromBytes(model, "sizes.onnx");
        Assert.Contains("raw_data holds 35 bytes", Assert.Throws<ModelFormatException>(() => w.Get("a.weight")).Message);
        Assert.Contains("float_data holds 1 values", Assert.Throws<ModelFormatException>(() => w.Get("b.weight")).Message);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x3A, 0x7F, 0x01 })] // graph field claiming 127 bytes that are not there
    [InlineData(new byte[] { 0x08, 0x07 })] // ir_version only, no graph
    [InlineData(new byte[] { 0x3B })] // field 7 with the wrong wire type
    public void CorruptBytesAreModelFormatExceptions(byte[] bytes)
    {
        var e = Assert.Throws<ModelFormatException>(() => OnnxWeightSource.FromBytes(bytes, "corrupt.onnx"));
        Assert.Equal("corrupt.onnx", e.FilePath);
    }

    [Fact]
    public void TextFileIsNotAnOnnxModel()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("model.onnx"), "this is not a protobuf, just text\n");
        var e = Assert.Throws<ModelFormatException>(() => OnnxWeightSource.Open(dir.File("model.onnx")));
        Assert.Contains("model.onnx", e.Message);
    }

    [SkippableFact]
    public void TruncatedAndFlippedModelsNeverEscapeAsOtherExceptions()
    {
        byte[] valid = File.ReadAllBytes(SharedData.Require("data", "onnxruntime-testdata", "bert_toy_optimized.onnx"));
        var rng = new Random(7);
        int rejected = 0, runs = 0;
        for (int iter = 0; iter < 250; iter++)
        {
            byte[] bytes = iter < 120
                ? valid[..rng.Next(valid.Length)]
                : (byte[])valid.Clone();
            if (iter >= 120)
                for (int k = 0; k < 1 + rng.Next(6); k++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            runs++;
            try
            {
                using var w = OnnxWeightSource.FromBytes(bytes, "fuzz.onnx");
                foreach (string n in w.Names) w.Get(n);
                w.InferBertConfig();
            }
            catch (ModelFormatException) { rejected++; }
        }
        Assert.True(rejected >= 100, $"only {rejected} of {runs} corrupt models were rejected");
    }
}
