using Vivace.Formats.Gguf;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Formats.Tests.Gguf;

/// <summary>
/// <see cref="GgufExport"/> then <see cref="GgufCheckpoint"/>: HF names, shapes and values come back (q/k rows through
/// the RoPE permutation and back), block formats give exactly the reference-quantized blocks, and the synthesized
/// HF config matches the one exported from.
/// </summary>
public class GgufCheckpointTests
{
    // head_dim = hidden / heads, GQA.
    private static readonly LlamaGgufConfig Plain = new(Hidden: 64, Intermediate: 96, Layers: 2, Heads: 4, KvHeads: 2, HeadDim: 16,
        RmsEps: 1e-5f, RopeTheta: 500000f, MaxPositions: 128, Vocab: 40, Tied: false);

    // head_dim ≠ hidden / heads (key_length written), tied embeddings, linear rope scaling.
    private static readonly LlamaGgufConfig Odd = new(Hidden: 64, Intermediate: 64, Layers: 1, Heads: 4, KvHeads: 4, HeadDim: 8,
        RmsEps: 1e-6f, RopeTheta: 10000f, MaxPositions: 64, Vocab: 33, Tied: true, RopeLinearFactor: 2.0);

    public static TheoryData<string> Configs => new("plain", "odd");

    private static LlamaGgufConfig ConfigNamed(string name) => name == "plain" ? Plain : Odd;

    [Theory]
    [MemberData(nameof(Configs))]
    public void F32ExportReadsBackExactly(string configName)
    {
        LlamaGgufConfig config = ConfigNamed(configName);
        using var dir = new TempDir();
        var source = InMemoryWeights.RandomLlama(config);
        string path = dir.File("m.gguf");
        var summary = GgufExport.Write(path, source, config, GgufTarget.F32,
            new Dictionary<string, object> { ["tokenizer.ggml.model"] = "llama", ["tokenizer.ggml.bos_token_id"] = 1u });
        Assert.Equal(0u, summary.FileType);
        Assert.Empty(summary.Notes);

        using var c = GgufCheckpoint.Open(path);
        Assert.Equal(source.Names.Order(StringComparer.Ordinal), c.Names.Order(StringComparer.Ordinal));
        foreach (string name in source.Names)
        {
            Tensor back = c.Get(name);
            Assert.Equal(name, back.Name);
            Assert.Equal(source.Tensors[name].Shape, back.Shape);
            Assert.Equal(source.Tensors[name].AsSpan().ToArray(), back.AsSpan().ToArray());
            Assert.Equal(DType.F32, c.GetInfo(name).DType);
            Assert.Null(c.GetQuantized(name));
        }
        // The q rows really are stored permuted: GGUF row 1 is HF row headDim/2.
        var q = c.File.ReadF32(c.File.GetTensorInfo("blk.0.attn_q.weight"));
        Assert.Equal(source.Tensors["model.layers.0.self_attn.q_proj.weight"].AsSpan().Slice(config.HeadDim / 2 * config.Hidden, config.Hidden).ToArray(),
            q.AsSpan().Slice(config.Hidden, config.Hidden).ToArray());
        Assert.Equal("llama", c.Metadata["tokenizer.ggml.model"]);
        AssertConfig(config, c);
    }

    private static void AssertConfig(LlamaGgufConfig config, GgufCheckpoint c)
    {
        HfConfig h = c.Config;
        Assert.Equal("llama", h.ModelType);
        Assert.Equal(config.Hidden, h.GetInt("hidden_size"));
        Assert.Equal(config.Intermediate, h.GetInt("intermediate_size"));
        Assert.Equal(config.Layers, h.GetInt("num_hidden_layers"));
        Assert.Equal(config.Heads, h.GetInt("num_attention_heads"));
        Assert.Equal(config.KvHeads, h.GetInt("num_key_value_heads"));
        Assert.Equal(config.HeadDim, h.GetInt("head_dim"));
        Assert.Equal(config.Vocab, h.GetInt("vocab_size"));
        Assert.Equal(config.MaxPositions, h.GetInt("max_position_embeddings"));
        Assert.Equal(config.RmsEps, h.GetFloat("rms_norm_eps"));
        Assert.Equal(config.RopeTheta, h.GetFloat("rope_theta"));
        Assert.Equal(config.Tied, h.GetBool("tie_word_embeddings"));
        Assert.Equal(config.RopeLinearFactor is null ? null : "linear", h.GetString("rope_scaling.rope_type"));
        Assert.Equal(config.RopeLinearFactor is double f ? (float)f : null, h.TryGetFloat("rope_scaling.factor"));
        Assert.Equal(config, LlamaGgufConfig.FromHf(h));
    }

    [Theory]
    [InlineData("plain", GgufTarget.Q8_0)]
    [InlineData("plain", GgufTarget.Q4_0)]
    [InlineData("odd", GgufTarget.Q8_0)]
    [InlineData("odd", GgufTarget.Q4_0)]
    public void BlockExportGivesTheReferenceBlocks(string configName, GgufTarget target)
    {
        LlamaGgufConfig config = ConfigNamed(configName);
        var format = target == GgufTarget.Q8_0 ? BlockFormat.Q8_0 : BlockFormat.Q4_0;
        using var dir = new TempDir();
        var source = InMemoryWeights.RandomLlama(config, seed: 3);
        string path = dir.File("q.gguf");
        var summary = GgufExport.Write(path, source, config, target);
        Assert.Equal(target == GgufTarget.Q8_0 ? 7u : 2u, summary.FileType);

        using var c = GgufCheckpoint.Open(path);
        foreach (string name in source.Names)
        {
            Tensor original = source.Tensors[name];
            if (original.Rank == 1)
            {
                Assert.Equal("F32", c.GetInfo(name).StoredType);
                Assert.Equal(original.AsSpan().ToArray(), c.Get(name).AsSpan().ToArray());
                continue;
            }
            var reference = QuantizedMatrix.Quantize(original, format);
            QuantizedMatrix got = c.GetQuantized(name)!;
            Assert.Equal(name, got.Name);
            Assert.Equal((format, original.Shape[0], original.Shape[1]), (got.Format, got.Rows, got.Columns));
            Assert.Equal(reference.Data, got.Data);
            Assert.Equal(reference.Dequantize().AsSpan().ToArray(), c.Get(name).AsSpan().ToArray());
            Assert.Null(c.GetInfo(name).DType);
        }

        // GGUF → GGUF: blocks already in the target format are copied, not re-quantized (Q4_0 of a dequantized Q4_0
        // matrix need not reproduce it), so a second export is byte-identical in its tensors.
        string again = dir.File("again.gguf");
        GgufExport.Write(again, c, config, target);
        using var c2 = GgufCheckpoint.Open(again);
        foreach (string name in source.Names.Where(n => source.Tensors[n].Rank == 2))
            Assert.Equal(c.GetQuantized(name)!.Data, c2.GetQuantized(name)!.Data);
    }

    [Fact]
    public void F16AndPartialBlocksFallBackWithANote()
    {
        // intermediate 80: down_proj rows are not whole blocks of 32.
        var config = Plain with { Intermediate = 80 };
        using var dir = new TempDir();
        var source = InMemoryWeights.RandomLlama(config);
        string path = dir.File("f.gguf");
        var summary = GgufExport.Write(path, source, config, GgufTarget.Q8_0);
        Assert.Equal(GgmlType.F16, summary.Tensors["blk.0.ffn_down.weight"]);
        Assert.Equal(GgmlType.Q8_0, summary.Tensors["blk.0.ffn_up.weight"]);
        Assert.Equal(GgmlType.F32, summary.Tensors["blk.0.attn_norm.weight"]);
        Assert.Contains(summary.Notes, n => n.StartsWith("blk.1.ffn_down.weight: stored as F16", StringComparison.Ordinal));

        using var c = GgufCheckpoint.Open(path);
        Tensor down = c.Get("model.layers.0.mlp.down_proj.weight");
        Assert.Equal(source.Tensors["model.layers.0.mlp.down_proj.weight"].AsSpan().ToArray().Select(v => (float)(Half)v), down.AsSpan().ToArray());
        Assert.Equal(DType.F16, c.GetRaw("model.layers.0.mlp.down_proj.weight").DType);

        string f16 = dir.File("h.gguf");
        Assert.Equal(1u, GgufExport.Write(f16, source, config, GgufTarget.F16).FileType);
        using var h = GgufCheckpoint.Open(f16);
        string qName = "model.layers.1.self_attn.k_proj.weight";
        Tensor raw = h.GetRaw(qName);
        Assert.Equal(DType.F16, raw.DType);
        Assert.Equal(source.Tensors[qName].AsSpan().ToArray().Select(v => (float)(Half)v), raw.ToF32().AsSpan().ToArray());
        Assert.Equal(source.Tensors[qName].AsSpan().ToArray().Select(v => (float)(Half)v), h.Get(qName).AsSpan().ToArray());
    }

    [Fact]
    public void ExportNeedsEveryLlamaTensor()
    {
        var source = InMemoryWeights.RandomLlama(Plain);
        var partial = new InMemoryWeights(source.Tensors.Where(kv => kv.Key != "model.layers.1.mlp.up_proj.weight").ToDictionary());
        using var dir = new TempDir();
        var e = Assert.Throws<ModelFormatException>(() => GgufExport.Write(dir.File("x.gguf"), partial, Plain, GgufTarget.F32));
        Assert.Equal("model.layers.1.mlp.up_proj.weight", e.Field);
    }

    [Theory]
    [InlineData("llama.rope.scaling.type", "yarn")]
    [InlineData("llama.rope.dimension_count", 8u)]
    [InlineData("llama.embedding_length", null)]
    [InlineData("llama.attention.head_count_kv", 3u)]
    [InlineData("rope_freqs.weight", null)]
    [InlineData("blk.0.attn_qkv.weight", null)]
    public void UnsupportedLlamaFilesAreRefusedByName(string what, object? value)
    {
        using var dir = new TempDir();
        string path = dir.File("u.gguf");
        var meta = new Dictionary<string, object?>
        {
            ["general.architecture"] = "llama", ["llama.embedding_length"] = 64u, ["llama.feed_forward_length"] = 96u,
            ["llama.block_count"] = 1u, ["llama.attention.head_count"] = 4u, ["llama.attention.layer_norm_rms_epsilon"] = 1e-5f,
            ["llama.context_length"] = 32u,
        };
        if (what.StartsWith("llama.", StringComparison.Ordinal)) meta[what] = value;
        var w = new GgufWriter();
        foreach (var (k, v) in meta)
            if (v != null) w.AddMetadata(k, v);
        w.AddTensor("token_embd.weight", Tensor.Zeros(10, 64));
        if (!what.StartsWith("llama.", StringComparison.Ordinal)) w.AddTensor(what, Tensor.Zeros(64));
        w.Write(path);
        var e = Assert.Throws<ModelFormatException>(() => GgufCheckpoint.Open(path));
        Assert.Equal(what, e.Field);
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
    }

    [Fact]
    public void OtherArchitecturesAreRefused()
    {
        using var dir = new TempDir();
        string path = dir.File("g.gguf");
        new GgufWriter().AddMetadata("general.architecture", "falcon").Write(path);
        var e = Assert.Throws<ModelFormatException>(() => GgufCheckpoint.Open(path));
        Assert.Equal("general.architecture", e.Field);
        Assert.Contains("falcon", e.Message);
    }

    [SkippableFact]
    public void RealGpt2ExportedToF32ReadsBackIdentically()
    {
        // HF keeps GPT-2's four projections as Conv1D [in, out]; GGUF stores them [out, in] (checked on the raw tensor),
        // and the checkpoint hands back the HF layout.
        string dirPath = SharedData.Require("goldens", "gpt2-small");
        using var source = WeightSources.Open(dirPath);
        HfConfig hf = HfConfig.Load(dirPath);
        using var dir = new TempDir();
        string path = dir.File("gpt2-small.gguf");
        GgufExportSummary summary = GgufExport.WriteGpt2(path, source, Gpt2GgufConfig.FromHf(hf), GgufTarget.F32, name: "gpt2-small");

        using var c = GgufCheckpoint.Open(path);
        Assert.Equal("gpt2", c.Architecture);
        string Prefixed(string n) => n == "lm_head.weight" || n.StartsWith("transformer.", StringComparison.Ordinal) ? n : "transformer." + n;
        var expected = source.Names.Where(n => !n.EndsWith(".attn.bias", StringComparison.Ordinal) && !n.EndsWith(".masked_bias", StringComparison.Ordinal))
            .Select(Prefixed).Order(StringComparer.Ordinal);
        Assert.Equal(expected, c.Names.Order(StringComparer.Ordinal));
        foreach (string name in source.Names.Where(n => c.Contains(Prefixed(n))))
            Assert.Equal(source.Get(name).AsSpan().ToArray(), c.Get(Prefixed(name)).AsSpan().ToArray());
        Tensor stored = c.File.ReadF32(c.File.GetTensorInfo("blk.0.attn_qkv.weight"));
        Tensor conv1D = source.Get(source.Contains("h.0.attn.c_attn.weight") ? "h.0.attn.c_attn.weight" : "transformer.h.0.attn.c_attn.weight");
        Assert.Equal([conv1D.Shape[1], conv1D.Shape[0]], stored.Shape.Dims.ToArray());
        Assert.Equal(conv1D.TransposeLastTwo().AsSpan().ToArray(), stored.AsSpan().ToArray());
        foreach (string field in (string[])["n_embd", "n_layer", "n_head", "n_positions", "vocab_size"])
            Assert.Equal(hf.GetInt(field), c.Config.GetInt(field));
        Assert.Equal(hf.GetFloat("layer_norm_epsilon", 1e-5f), c.Config.GetFloat("layer_norm_epsilon"));
        Assert.True(c.Config.GetBool("tie_word_embeddings"));
        Assert.DoesNotContain("output.weight", summary.Tensors.Keys);
    }

    [Fact]
    public void Gpt2ThatLlamaCppWouldRunDifferentlyIsRefused()
    {
        var relu = HfConfig.FromValues(new Dictionary<string, object?> { ["model_type"] = "gpt2", ["n_embd"] = 8, ["n_head"] = 2, ["n_layer"] = 1,
            ["n_positions"] = 16, ["vocab_size"] = 10, ["activation_function"] = "relu" }, "config.json");
        Assert.Contains("GELU", Assert.Throws<ModelFormatException>(() => Gpt2GgufConfig.FromHf(relu)).Message);
        var layerScaled = HfConfig.FromValues(new Dictionary<string, object?> { ["model_type"] = "gpt2", ["n_embd"] = 8, ["n_head"] = 2, ["n_layer"] = 1,
            ["n_positions"] = 16, ["vocab_size"] = 10, ["scale_attn_by_inverse_layer_idx"] = true }, "config.json");
        Assert.Throws<ModelFormatException>(() => Gpt2GgufConfig.FromHf(layerScaled));
    }

    [SkippableFact]
    public void RealLlamaExportedToF32ReadsBackIdentically()
    {
        string dirPath = SharedData.Require("goldens", "llama-small");
        using var source = WeightSources.Open(dirPath);
        HfConfig hf = HfConfig.Load(dirPath);
        LlamaGgufConfig config = LlamaGgufConfig.FromHf(hf);
        using var dir = new TempDir();
        string path = dir.File("llama-small.gguf");
        GgufExport.Write(path, source, config, GgufTarget.F32, name: "llama-small");

        using var c = GgufCheckpoint.Open(path);
        Assert.Equal("llama-small", c.Metadata["general.name"]);
        Assert.Equal(source.Names.Order(StringComparer.Ordinal), c.Names.Order(StringComparer.Ordinal));
        foreach (string name in source.Names)
            Assert.Equal(source.Get(name).AsSpan().ToArray(), c.Get(name).AsSpan().ToArray());
        foreach (string field in (string[])["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "vocab_size", "max_position_embeddings"])
            Assert.Equal(hf.GetInt(field), c.Config.GetInt(field));
        Assert.Equal(hf.GetFloat("rms_norm_eps"), c.Config.GetFloat("rms_norm_eps"));
        Assert.Equal(hf.GetBool("tie_word_embeddings"), c.Config.GetBool("tie_word_embeddings"));
    }
}
