using System.Globalization;
using System.Text.Json;
using Vivace.Cpu;
using Vivace.Formats;
using Vivace.Formats.Safetensors;
using Vivace.Models.Decoders;
using Vivace.Tensors;
using Vivace.Tests;

namespace Vivace.Models.Tests;

/// <summary>
/// RoPE scaling variants against transformers 5.17 / torch 2.11 (CPU, f32).
/// (a) inv_freq, attention factor and cos/sin per variant: the expected numbers were printed on the GPU machine by
/// calling <c>transformers.modeling_rope_utils.ROPE_INIT_FUNCTIONS[rope_type](LlamaConfig(..., rope_parameters=...),
/// "cpu", seq_len=L)</c> (or <c>LlamaRotaryEmbedding.compute_default_rope_parameters</c>) and, for cos/sin, calling a
/// <c>LlamaRotaryEmbedding(config)</c> on positions 0..22 and reading position 22 (head_dim 16, hidden 32, 4 heads).
/// (b) end to end: LlamaModel on the llama-rope-* goldens (../shared/goldens, README there) reproduces transformers'
/// logits and greedy ids.
/// </summary>
public class RopeScalingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int HeadDim = 16;

    private static RopeScaling Parse(string json) => RopeScaling.FromHf(HfConfig.Parse(json, "test/config.json"));

    private static float[] F(params string[] values) => values.Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Each entry within 4 ulp-ish (2e-6 relative) of transformers' f32 value.</summary>
    private static void AssertFloats(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 2e-6f * MathF.Abs(expected[i]) + 1e-12f,
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    // Default rope, theta 10000, dim 16 (transformers: LlamaRotaryEmbedding.compute_default_rope_parameters).
    private static readonly float[] DefaultInv = F("1", "0.316227764", "0.100000001", "0.0316227786", "0.00999999978",
        "0.00316227786", "0.00100000005", "0.000316227786");

    public static TheoryData<string, string, int, string[], double> Cases => new()
    {
        // name, rope_parameters JSON (plus max_position_embeddings), seq_len, transformers inv_freq, attention factor
        { "default", """{"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}, "max_position_embeddings": 256}""", 23,
            ["1", "0.316227764", "0.100000001", "0.0316227786", "0.00999999978", "0.00316227786", "0.00100000005", "0.000316227786"], 1.0 },
        { "linear", """{"rope_parameters": {"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0}, "max_position_embeddings": 256}""", 23,
            ["0.25", "0.079056941", "0.0250000004", "0.00790569466", "0.00249999994", "0.000790569466", "0.000250000012", "7.90569466e-05"], 1.0 },
        { "dynamic L=8 (≤ max: default)", """{"rope_parameters": {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 4.0}, "max_position_embeddings": 8}""", 8,
            ["1", "0.316227764", "0.100000001", "0.0316227786", "0.00999999978", "0.00316227786", "0.00100000005", "0.000316227786"], 1.0 },
        { "dynamic L=12", """{"rope_parameters": {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 4.0}, "max_position_embeddings": 8}""", 12,
            ["1", "0.270296127", "0.0730599985", "0.0197478328", "0.00533776265", "0.00144277664", "0.000389976922", "0.000105409257"], 1.0 },
        { "dynamic L=23", """{"rope_parameters": {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 4.0}, "max_position_embeddings": 8}""", 23,
            ["1", "0.232930243", "0.0542564951", "0.0126379784", "0.00294376723", "0.000685692416", "0.000159718489", "3.72032664e-05"], 1.0 },
        // dynamic ignores original_max_position_embeddings (transformers warns "Unrecognized keys"): 40 ≤ max 64 → default.
        { "dynamic ignores original max", """{"rope_parameters": {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0, "original_max_position_embeddings": 16}, "max_position_embeddings": 64}""", 40,
            ["1", "0.316227764", "0.100000001", "0.0316227786", "0.00999999978", "0.00316227786", "0.00100000005", "0.000316227786"], 1.0 },
        { "llama3", """{"rope_parameters": {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 4.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 32}, "max_position_embeddings": 256}""", 23,
            ["1", "0.127323955", "0.0250000004", "0.00790569466", "0.00249999994", "0.000790569466", "0.000250000012", "7.90569466e-05"], 1.0 },
        { "yarn", """{"rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 64}, "max_position_embeddings": 256}""", 23,
            ["1", "0.237170815", "0.049999997", "0.00790569466", "0.00249999994", "0.000790569466", "0.000250000012", "7.90569466e-05"], 1.1386294361119891 },
        // original_max_position_embeddings absent → max_position_embeddings (64); explicit attention_factor.
        { "yarn attention_factor", """{"rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "attention_factor": 1.5}, "max_position_embeddings": 64}""", 23,
            ["1", "0.237170815", "0.049999997", "0.00790569466", "0.00249999994", "0.000790569466", "0.000250000012", "7.90569466e-05"], 1.5 },
        // DeepSeek style: mscale / mscale_all_dim, beta_fast/slow, truncate false.
        { "yarn mscale", """{"rope_parameters": {"rope_type": "yarn", "rope_theta": 500000.0, "factor": 8.0, "original_max_position_embeddings": 32, "beta_fast": 16.0, "beta_slow": 2.0, "mscale": 0.707, "mscale_all_dim": 1.0, "truncate": false}, "max_position_embeddings": 256}""", 23,
            ["1", "0.0242403448", "0.00470075384", "0.000911583134", "0.000176776681", "3.42810235e-05", "6.64786967e-06", "1.28917316e-06"], 0.9495608824621653 },
        { "longrope L=16 (short)", """{"rope_parameters": {"rope_type": "longrope", "rope_theta": 10000.0, "original_max_position_embeddings": 16, "short_factor": [1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.1, 3.8], "long_factor": [1.0, 1.5, 2.2, 3.0, 4.0, 5.5, 7.0, 9.0]}, "max_position_embeddings": 64}""", 16,
            ["1", "0.287479758", "0.0769230798", "0.0197642352", "0.00499999989", "0.00126491114", "0.000322580658", "8.32178412e-05"], 1.2247448713915889 },
        { "longrope L=17 (long)", """{"rope_parameters": {"rope_type": "longrope", "rope_theta": 10000.0, "original_max_position_embeddings": 16, "short_factor": [1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.1, 3.8], "long_factor": [1.0, 1.5, 2.2, 3.0, 4.0, 5.5, 7.0, 9.0]}, "max_position_embeddings": 64}""", 17,
            ["1", "0.210818499", "0.0454545468", "0.010540925", "0.00249999994", "0.000574959558", "0.000142857141", "3.51364179e-05"], 1.2247448713915889 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void InverseFrequenciesMatchTransformers(string name, string json, int seqLen, string[] expected, double attention)
    {
        HfConfig c = HfConfig.Parse(json, "test/config.json");
        RopeScaling scaling = RopeScaling.FromHf(c);
        var rope = new Rope(HeadDim, c.GetFloat("rope_parameters.rope_theta"), scaling, c.GetInt("max_position_embeddings"));
        AssertFloats(F(expected), rope.InverseFrequencies(seqLen), name);
        Assert.Equal(attention, rope.AttentionFactor, 1e-12);
    }

    public static TheoryData<string, string, string[], string[]> CosSinCases => new()
    {
        // LlamaRotaryEmbedding(config)(x, positions 0..22): cos/sin at position 22 (first half; the second repeats it).
        { "dynamic", """{"rope_parameters": {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 4.0}, "max_position_embeddings": 8}""",
            ["-0.99996084", "0.400512844", "0.368275493", "0.961596489", "0.997903585", "0.999886215", "0.999993861", "0.999999642"],
            ["-0.00885130931", "-0.916291118", "0.929716706", "0.27446714", "0.0647176132", "0.0150846615", "0.00351379951", "0.000818471774"] },
        { "yarn", """{"rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 64}, "max_position_embeddings": 256}""",
            ["-1.13858485", "0.551245272", "0.516478002", "1.12145102", "1.1369077", "1.1384573", "1.13861215", "1.13862777"],
            ["-0.0100783613", "-0.996295929", "1.01475489", "0.197039515", "0.0625930503", "0.0198026448", "0.00626243046", "0.00198036339"] },
        { "longrope", """{"rope_parameters": {"rope_type": "longrope", "rope_theta": 10000.0, "original_max_position_embeddings": 16, "short_factor": [1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.1, 3.8], "long_factor": [1.0, 1.5, 2.2, 3.0, 4.0, 5.5, 7.0, 9.0]}, "max_position_embeddings": 64}""",
            ["-1.22469699", "-0.0910147727", "0.661732554", "1.19196022", "1.222893", "1.22464693", "1.22473884", "1.22474456"],
            ["-0.0108405957", "-1.22135842", "1.03058732", "0.281479955", "0.0673270151", "0.015491521", "0.00384919182", "0.000946729211"] },
    };

    /// <summary>
    /// Rotating a row whose first half is 1 and second half 0 leaves cos in the first half and sin in the second, so
    /// Apply's cos/sin (attention factor included) are read back directly. The call holds positions 0..22 (the last
    /// row is read) so dynamic/longrope see seq_len 23, as the module call did.
    /// </summary>
    [Theory]
    [MemberData(nameof(CosSinCases))]
    public void ApplyUsesTransformersCosSin(string name, string json, string[] cos, string[] sin)
    {
        HfConfig c = HfConfig.Parse(json, "test/config.json");
        var rope = new Rope(HeadDim, c.GetFloat("rope_parameters.rope_theta"), RopeScaling.FromHf(c), c.GetInt("max_position_embeddings"));
        const int tokens = 23, heads = 2;
        Tensor x = Tensor.Zeros(tokens, heads * HeadDim);
        Span<float> data = x.AsSpan();
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
                data.Slice(t * heads * HeadDim + h * HeadDim, HeadDim / 2).Fill(1f);
        rope.Apply(x, Enumerable.Range(0, tokens).ToArray());
        ReadOnlySpan<float> last = x.AsSpan().Slice((tokens - 1) * heads * HeadDim, heads * HeadDim);
        for (int h = 0; h < heads; h++)
        {
            // Within 1e-6 absolute: the cos/sin of angles up to 22 rad agree to about an ulp of the angle.
            float[] gotCos = last.Slice(h * HeadDim, HeadDim / 2).ToArray(), gotSin = last.Slice(h * HeadDim + HeadDim / 2, HeadDim / 2).ToArray();
            for (int i = 0; i < HeadDim / 2; i++)
            {
                Assert.True(MathF.Abs(F(cos)[i] - gotCos[i]) <= 1e-6f, $"{name} cos[{i}]: expected {cos[i]}, got {gotCos[i]:R}");
                Assert.True(MathF.Abs(F(sin)[i] - gotSin[i]) <= 1e-6f, $"{name} sin[{i}]: expected {sin[i]}, got {gotSin[i]:R}");
            }
        }
    }

    [Fact]
    public void DynamicIsAFunctionOfEachCallsPositions()
    {
        var scaling = Parse("""{"rope_parameters": {"rope_type": "dynamic", "factor": 4.0}, "max_position_embeddings": 8}""");
        var rope = new Rope(HeadDim, 10000f, scaling, 8);
        Tensor Rotate(int[] positions)
        {
            Tensor x = Tensor.Zeros(positions.Length, HeadDim);
            x.AsSpan().Fill(0.5f);
            rope.Apply(x, positions);
            return x;
        }
        // Position 5 alone (seq_len 6 ≤ 8): default frequencies; in a call reaching position 22: the grown ones.
        float[] alone = Rotate([5]).AsSpan().ToArray();
        float[] inLong = Rotate([5, 22]).AsSpan()[..HeadDim].ToArray();
        float[] againAlone = Rotate([5]).AsSpan().ToArray();
        Assert.NotEqual(alone, inLong);
        Assert.Equal(alone, againAlone); // no state carried over from the longer call (transformers would keep it)
        var plain = new Rope(HeadDim, 10000f);
        Tensor d = Tensor.Zeros(1, HeadDim);
        d.AsSpan().Fill(0.5f);
        plain.Apply(d, [5]);
        Assert.Equal(d.AsSpan().ToArray(), alone);
    }

    [Fact]
    public void PartialRotaryFactorRotatesOnlyTheLeadingDims()
    {
        // transformers: dim = int(head_dim * partial_rotary_factor) = 8, inv_freq = 1/θ^(arange(0, 8, 2)/8) / factor.
        var scaling = Parse("""{"rope_parameters": {"rope_type": "linear", "factor": 2.0, "partial_rotary_factor": 0.5}, "max_position_embeddings": 64}""");
        var rope = new Rope(HeadDim, 10000f, scaling, 64);
        Assert.Equal(8, rope.RotaryDim);
        AssertFloats([0.5f, 0.05f, 0.005f, 0.0005f], rope.InverseFrequencies(1), "partial inv_freq");
        Tensor x = Tensor.Zeros(1, 2 * HeadDim);
        float[] input = Enumerable.Range(1, 2 * HeadDim).Select(i => (float)i).ToArray();
        input.CopyTo(x.AsSpan());
        rope.Apply(x, [3]);
        float[] got = x.AsSpan().ToArray();
        for (int h = 0; h < 2; h++)
        {
            int o = h * HeadDim;
            for (int i = 0; i < 4; i++)
            {
                float angle = rope.InverseFrequencies(1)[i] * 3;
                float a = input[o + i], b = input[o + i + 4];
                Assert.Equal(a * MathF.Cos(angle) - b * MathF.Sin(angle), got[o + i], 1e-5f);
                Assert.Equal(b * MathF.Cos(angle) + a * MathF.Sin(angle), got[o + i + 4], 1e-5f);
            }
            for (int i = 8; i < HeadDim; i++) Assert.Equal(input[o + i], got[o + i]); // pass-through
        }
    }

    [Fact]
    public void ParsesLegacyRopeScalingAsTransformersStandardizes()
    {
        // Legacy `rope_scaling` with `type`; it wins over rope_parameters (transformers: `rope_scaling or rope_parameters`).
        RopeScaling s = Parse("""{"rope_theta": 5000.0, "rope_scaling": {"type": "linear", "factor": 2.0}, "rope_parameters": {"rope_type": "default"}}""");
        Assert.Equal("linear", s.Type);
        Assert.Equal(2.0, s.Factor);
        Assert.Equal(2048, s.MaxPositionEmbeddings); // LlamaConfig's default
        Assert.Null(s.OriginalMaxPositionEmbeddings);

        // rope_type wins over type; yarn without original_max_position_embeddings takes max_position_embeddings.
        s = Parse("""{"max_position_embeddings": 256, "rope_scaling": {"rope_type": "yarn", "type": "linear", "factor": 4.0}}""");
        Assert.Equal("yarn", s.Type);
        Assert.Equal(256, s.OriginalMaxPositionEmbeddings);

        // A top-level original_max_position_embeddings (Phi-3) wins over the dict's.
        s = Parse("""{"max_position_embeddings": 256, "original_max_position_embeddings": 32, "rope_parameters": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}}""");
        Assert.Equal(32, s.OriginalMaxPositionEmbeddings);

        // Partial rotary factor from the top level; defaults elsewhere.
        s = Parse("""{"partial_rotary_factor": 0.25, "rope_parameters": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}""");
        Assert.Equal(0.25, s.PartialRotaryFactor);
        Assert.Equal(8192, s.OriginalMaxPositionEmbeddings);
        Assert.True(s.Truncate);

        s = Parse("""{"rope_parameters": {"rope_theta": 10000.0}}""");
        Assert.Equal(RopeScaling.Default, s);
        Assert.Equal("default", Parse("{}").Type);
    }

    [Theory]
    [InlineData("""{"rope_parameters": {"rope_type": "proportional"}}""", "rope_parameters.rope_type")]
    [InlineData("""{"rope_parameters": {"rope_type": "linear"}}""", "rope_parameters.factor")]
    [InlineData("""{"rope_scaling": {"type": "dynamic"}}""", "rope_scaling.factor")]
    [InlineData("""{"rope_parameters": {"rope_type": "llama3", "factor": 8.0, "high_freq_factor": 4.0}}""", "rope_parameters.low_freq_factor")]
    [InlineData("""{"rope_parameters": {"rope_type": "longrope", "short_factor": [1.0]}}""", "rope_parameters.long_factor")]
    [InlineData("""{"rope_parameters": {"rope_type": "linear", "factor": 0}}""", "rope_parameters.factor")]
    public void RejectsUnsupportedOrIncompleteParameters(string json, string field)
    {
        var e = Assert.Throws<ModelFormatException>(() => Parse(json));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void DecoderConfigCarriesTheScaling()
    {
        string json = """
            {"model_type": "llama", "vocab_size": 10, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
             "num_attention_heads": 4, "max_position_embeddings": 64,
             "rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 16}}
            """;
        DecoderConfig c = DecoderConfig.FromHf(HfConfig.Parse(json, "test/config.json"));
        Assert.Equal("yarn", c.RopeScaling.Type);
        Assert.Equal(16, c.RopeScaling.OriginalMaxPositionEmbeddings);
        Assert.Equal(64, c.RopeScaling.MaxPositionEmbeddings);
        Assert.Equal(10000f, c.RopeTheta);
    }

    // ---- (b) end to end on the llama-rope-* goldens ----
}
