using System.Globalization;
using System.Text;
using Vivace.Formats.Gguf;
using Vivace.Tests;
using Vivace.Tokenizers.Gguf;

namespace Vivace.Formats.Tests.Gguf;

/// <summary>
/// The real GGUF v3 vocabulary files llama.cpp tests with (no tensors), read in place from the shared data: the
/// Formats reader agrees with the tokenizer layer's own header reader on every key and value.
/// </summary>
public class GgufVocabFileTests
{
    public static TheoryData<string> Files => new(
        "bert-bge", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-spm", "mpt", "phi-3", "refact", "starcoder");

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void MetadataAgreesWithTheTokenizerReader(string name)
    {
        string path = SharedData.Require("data", "llama.cpp", $"ggml-vocab-{name}.gguf");
        using var f = GgufFile.Open(path);
        var reference = GgufMetadata.Read(path);
        Assert.Equal(reference.Version, f.Version);
        Assert.Empty(f.Tensors);
        Assert.Equal(reference.Values.Keys.Order(StringComparer.Ordinal), f.Metadata.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, value) in f.Metadata)
            Assert.True(Canon(value, mine: true) == Canon(reference.Values[key], mine: false), $"{name}: '{key}' differs");
        Assert.NotEmpty(f.GetArray<string>("tokenizer.ggml.tokens")!);
        Assert.NotNull(f.GetString("general.architecture"));
    }

    [SkippableFact]
    public void AVocabularyWithoutTensorsIsNoCheckpoint()
    {
        string path = SharedData.Require("data", "llama.cpp", "ggml-vocab-llama-spm.gguf");
        var e = Assert.Throws<ModelFormatException>(() => GgufCheckpoint.Open(path));
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
    }

    /// <summary>
    /// One text form for both readers' boxing: the tokenizer reader widens integers to long (u64 to ulong), floats
    /// to double, reads u32 and i32 arrays as int[] and other arrays as object[]; the Formats reader keeps types.
    /// </summary>
    private static string Canon(object value, bool mine)
    {
        var sb = new StringBuilder();
        Append(sb, value, mine);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, object value, bool mine)
    {
        switch (value)
        {
            case string s: sb.Append('"').Append(s).Append('"'); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case float f: sb.Append(((double)f).ToString("R", CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(d.ToString("R", CultureInfo.InvariantCulture)); break;
            case uint u when mine: sb.Append(u); break;
            case ulong u: sb.Append(u); break;
            case IConvertible c when value.GetType().IsPrimitive: sb.Append(c.ToInt64(CultureInfo.InvariantCulture)); break;
            // The tokenizer reads u32 arrays as int. (An exact type test: the CLR lets int[] pass for uint[].)
            case uint[] ua when mine && value.GetType() == typeof(uint[]): Append(sb, ua.Select(x => unchecked((int)x)).ToArray(), mine); break;
            case Array a:
                sb.Append('[');
                foreach (object? item in a) { Append(sb, item!, mine); sb.Append(','); }
                sb.Append(']');
                break;
            default: throw new InvalidOperationException($"unexpected {value.GetType()}");
        }
    }
}
