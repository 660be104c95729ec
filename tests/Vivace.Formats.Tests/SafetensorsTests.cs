using Vivace.Formats.Safetensors;
using Vivace.Tensors;
using Vivace.Tests;
using static Vivace.Formats.Tests.SafetensorsWriter;

namespace Vivace.Formats.Tests;

public class SafetensorsTests
{
    [Fact]
    public void RoundTripsEveryDType()
    {
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        Write(path,
        [
            new Entry("f32", "F32", [2, 3], F32(1, -2, 3.5f, 0, 1e-20f, -7)),
            new Entry("f16", "F16", [3], F16(1.5f, -0.25f, 65504)),
            new Entry("bf16", "BF16", [2], BF16(3.140625f, -1e10f)),
            new Entry("i64", "I64", [2], I64(-5, 1L << 40)),
            new Entry("i32", "I32", [2], I32(7, -9)),
            new Entry("i8", "I8", [3], [0xFF, 0x05, 0x80]),
            new Entry("u8", "U8", [2], [200, 1]),
            new Entry("bool", "BOOL", [3], [0, 1, 7]),
            new Entry("f64", "F64", [1], BitConverter.GetBytes(2.5)),
            new Entry("scalar", "F32", [], F32(42)),
            new Entry("empty", "F32", [0, 4], []),
        ], new Dictionary<string, string> { ["format"] = "pt" });

        using SafetensorsFile f = SafetensorsFile.Open(path);
        Assert.Equal(11, f.Names.Count);
        Assert.Equal("pt", f.Metadata["format"]);

        Tensor t = f.Get("f32");
        Assert.Equal(DType.F32, t.DType);
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal("f32", t.Name);
        Assert.Equal([1, -2, 3.5f, 0, 1e-20f, -7], t.AsSpan().ToArray());

        Assert.Equal([1.5f, -0.25f, 65504], f.Get("f16").AsSpan().ToArray());
        Assert.Equal([3.140625f, -9999220736f], f.Get("bf16").AsSpan().ToArray());
        Assert.Equal([-5f, 1099511627776f], f.Get("i64").AsSpan().ToArray());
        Assert.Equal([7f, -9f], f.Get("i32").AsSpan().ToArray());
        Assert.Equal([-1f, 5f, -128f], f.Get("i8").AsSpan().ToArray());
        Assert.Equal([200f, 1f], f.Get("u8").AsSpan().ToArray());
        Assert.Equal([0f, 1f, 1f], f.Get("bool").AsSpan().ToArray());
        Assert.Equal([2.5f], f.Get("f64").AsSpan().ToArray());
        Assert.Equal(0, f.Get("scalar").Rank);
        Assert.Equal([42f], f.Get("scalar").AsSpan().ToArray());
        Assert.Equal(0, f.Get("empty").ElementCount);
        Assert.Equal(new Shape(0, 4), f.Get("empty").Shape);
    }

    [Fact]
    public void RawAccessKeepsTheStoredDType()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        Write(path,
        [
            new Entry("h", "F16", [2], F16(0.5f, 2)),
            new Entry("b", "BF16", [1], BF16(-2)),
            new Entry("l", "I64", [1], I64(long.MaxValue)),
            new Entry("bool", "BOOL", [2], [0, 9]),
        ]);
        using var f = SafetensorsFile.Open(path);
        Tensor h = f.GetRaw("h");
        Assert.Equal(DType.F16, h.DType);
        Assert.Equal([(Half)0.5f, (Half)2], h.Span<Half>().ToArray());
        Tensor b = f.GetRaw("b");
        Assert.Equal(DType.BF16, b.DType);
        Assert.Equal(NumericConversions.SingleToBFloat16(-2), b.Span<ushort>()[0]);
        Assert.Equal(long.MaxValue, f.GetRaw("l").Span<long>()[0]);
        Assert.Equal([0, 1], f.GetRaw("bool").Span<byte>().ToArray());

        WeightInfo info = f.GetInfo("b");
        Assert.Equal("BF16", info.StoredType);
        Assert.Equal(DType.BF16, info.DType);
        Assert.Equal(new Shape(1), info.Shape);
        Assert.Equal(4, f.GetBytes("h").Length);
    }

    [Fact]
    public void MissingTensorNamesTheFileAndTheTensor()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        Write(path, [new Entry("a", "F32", [1], F32(1))]);
        using var f = SafetensorsFile.Open(path);
        Assert.False(f.Contains("nope"));
        var e = Assert.Throws<ModelFormatException>(() => f.Get("nope"));
        Assert.Equal("nope", e.Field);
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
        Assert.Contains("m.safetensors", e.Message);
        Assert.Contains("nope", e.Message);
    }

    [Fact]
    public void DisposedFileRefusesReads()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        Write(path, [new Entry("a", "F32", [1], F32(1))]);
        var f = SafetensorsFile.Open(path);
        f.Dispose();
        f.Dispose();
        Assert.Throws<ObjectDisposedException>(() => f.Get("a"));
    }

    [Fact]
    public void ShardedIndexSpreadsTensorsOverFiles()
    {
        using var dir = new TempDir();
        Write(dir.File("model-00001-of-00002.safetensors"), [new Entry("a.weight", "F32", [2], F32(1, 2)), new Entry("b.weight", "F16", [1], F16(3))]);
        Write(dir.File("model-00002-of-00002.safetensors"), [new Entry("c.weight", "BF16", [1], BF16(4))]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), """
            {"metadata": {"total_size": 14}, "weight_map": {
              "a.weight": "model-00001-of-00002.safetensors",
              "b.weight": "model-00001-of-00002.safetensors",
              "c.weight": "model-00002-of-00002.safetensors"}}
            """);

        using IWeightSource w = WeightSources.Open(dir.Path);
        var sharded = Assert.IsType<ShardedSafetensors>(w);
        Assert.Equal(2, sharded.Shards.Count);
        Assert.Equal(["a.weight", "b.weight", "c.weight"], w.Names.Order());
        Assert.Equal([1f, 2f], w.Get("a.weight").AsSpan().ToArray());
        Assert.Equal([3f], w.Get("b.weight").AsSpan().ToArray());
        Assert.Equal([4f], w.Get("c.weight").AsSpan().ToArray());
        Assert.Equal(DType.BF16, w.GetRaw("c.weight").DType);
        var e = Assert.Throws<ModelFormatException>(() => w.Get("d.weight"));
        Assert.Contains("model.safetensors.index.json", e.Message);
        Assert.Contains("sharded", w.Describe());
    }

    [Theory]
    [InlineData("""{"weight_map": {"a": "missing.safetensors"}}""", "does not exist")]
    [InlineData("""{"weight_map": {"zzz": "s1.safetensors"}}""", "has no tensor")]
    [InlineData("""{"weight_map": {"a": "../s1.safetensors"}}""", "not a plain file name")]
    [InlineData("""{"weight_map": {"a": "/etc/passwd"}}""", "not a plain file name")]
    [InlineData("""{"weight_map": {"a": 3}}""", "expected a file name")]
    [InlineData("""{"weight_map": {}}""", "is empty")]
    [InlineData("""{"metadata": {}}""", "weight_map")]
    [InlineData("""[1, 2]""", "JSON object")]
    [InlineData("""{"weight_map": """, "not valid JSON")]
    public void BadShardIndexesAreClearErrors(string index, string expected)
    {
        using var dir = new TempDir();
        Write(dir.File("s1.safetensors"), [new Entry("a", "F32", [1], F32(1))]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), index);
        var e = Assert.Throws<ModelFormatException>(() => ShardedSafetensors.Open(dir.File("model.safetensors.index.json")));
        Assert.Contains(expected, e.Message);
        Assert.Contains("model.safetensors.index.json", e.Message);
    }

    [Fact]
    public void DirectoryLoaderPrefersModelSafetensors()
    {
        using var dir = new TempDir();
        Write(dir.File("model.safetensors"), [new Entry("x", "F32", [1], F32(5))]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), "not even json");
        using IWeightSource w = WeightSources.Open(dir.Path);
        Assert.IsType<SafetensorsFile>(w);
        Assert.Equal(5f, w.Get("x").AsSpan()[0]);
    }

    [Fact]
    public void DirectoryWithoutWeightsIsAClearError()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ModelFormatException>(() => WeightSources.Open(dir.Path));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Throws<ModelFormatException>(() => WeightSources.Open(dir.File("nothing.safetensors")));
        File.WriteAllText(dir.File("weights.bin"), "x");
        Assert.Contains("unknown weight format", Assert.Throws<ModelFormatException>(() => WeightSources.Open(dir.File("weights.bin"))).Message);
    }

    [SkippableFact]
    public void LoadsTheBertSmallGolden()
    {
        string path = SharedData.Require("goldens", "bert-small", "model.safetensors");
        using IWeightSource w = WeightSources.Open(Path.GetDirectoryName(path)!);
        Assert.Equal(BertNames.BertModel(layers: 2), w.Names.ToHashSet());
        Assert.Equal(new Shape(1000, 32), w.GetInfo("embeddings.word_embeddings.weight").Shape);
        Assert.Equal(new Shape(128, 32), w.GetInfo("embeddings.position_embeddings.weight").Shape);
        Assert.Equal(new Shape(64, 32), w.GetInfo("encoder.layer.0.intermediate.dense.weight").Shape);
        Assert.Equal(new Shape(32, 64), w.GetInfo("encoder.layer.1.output.dense.weight").Shape);
        Tensor ln = w.Get("encoder.layer.1.output.LayerNorm.weight");
        Assert.Equal(new Shape(32), ln.Shape);
        Assert.All(ln.AsSpan().ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.Contains(ln.AsSpan().ToArray(), v => v != 1f); // the goldens perturb every parameter
        var config = HfConfig.Load(Path.GetDirectoryName(path)!);
        Assert.Equal(config.GetInt("hidden_size"), w.GetInfo("embeddings.word_embeddings.weight").Shape[1]);
    }

    [SkippableTheory]
    [InlineData("tensor-1d-int32.safetensors", new[] { 3 }, new float[] { 1, 2, 3 })]
    [InlineData("tensor-2d-float64.safetensors", new[] { 2, 3 }, new float[] { 1, 2, 3, 24, 25, 26 })]
    [InlineData("tensor-3d-float32.safetensors", new[] { 2, 2, 3 }, new float[] { 22, 23, 24, 11, 12, 13, 2, 3, 4, 1, 2, 3 })]
    [InlineData("tensor-4d-float32.safetensors", new[] { 2, 3, 1, 3 },
        new float[] { 11, 12, 13, 1, 2, 3, 4, 5, 6, 22, 23, 24, 15, 16, 17, 17, 18, 19 })]
    public void ReadsThirdPartyFiles(string file, int[] shape, float[] values)
    {
        string path = SharedData.Require("data", "swift-transformers", "safetensors", file);
        using var f = SafetensorsFile.Open(path);
        Tensor t = f.Get("embedding");
        Assert.Equal(new Shape(shape), t.Shape);
        Assert.Equal(values, t.AsSpan().ToArray());
    }
}
