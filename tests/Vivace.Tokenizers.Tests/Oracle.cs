using Vivace.Tests;

namespace Vivace.Tokenizers.Tests;

/// <summary>The reference: Hugging Face tokenizers (Rust, 0.22) through Tokenizers.DotNet. Its Encode adds
/// special tokens and applies the file's truncation and padding; it exposes ids only (no offsets).</summary>
internal static class Oracle
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<string, global::Tokenizers.DotNet.Tokenizer> s_loaded = new();

    private static global::Tokenizers.DotNet.Tokenizer Load(string path)
    {
        if (!s_loaded.TryGetValue(path, out var t)) s_loaded[path] = t = new global::Tokenizers.DotNet.Tokenizer(vocabPath: path);
        return t;
    }

    public static readonly string[] WordPieceFiles =
    [
        "FastBertTokenizer/bert-base-uncased/tokenizer.json",
        "FastBertTokenizer/baai-bge-small-en/tokenizer.json",
        "FastBertTokenizer/bert-base-chinese/tokenizer.json",
        "FastBertTokenizer/bert-base-multilingual-cased/tokenizer.json",
        "daulet-tokenizers/all-minilm-l6-v2.tokenizer.json",
    ];

    /// <summary>Every full Unigram / WordLevel tokenizer.json in shared/data.</summary>
    public static readonly string[] UnigramFiles =
    [
        "ort-extensions/t5-small/tokenizer.json",
    ];

    public static int[][] EncodeAll(string path, IReadOnlyList<string> lines)
    {
        lock (s_lock)
        {
            var hf = Load(path);
            var result = new int[lines.Count][];
            for (int i = 0; i < lines.Count; i++)
                result[i] = hf.Encode(lines[i]).Select(x => (int)x).ToArray();
            return result;
        }
    }

    public static string Decode(string path, int[] ids)
    {
        lock (s_lock)
        {
            var hf = Load(path);
            return hf.Decode(ids.Select(x => (uint)x).ToArray());
        }
    }

    /// <summary>Asserts <paramref name="tok"/> gives the reference's ids for every line (the first differences in the message).</summary>
    public static void AssertSameIds(Tokenizer tok, string path, IReadOnlyList<string> lines, Xunit.Abstractions.ITestOutputHelper output)
    {
        Assert.True(lines.Count >= 3000, $"corpus too small: {lines.Count}");
        var expected = EncodeAll(path, lines);
        int differing = 0;
        var report = new System.Text.StringBuilder();
        for (int i = 0; i < lines.Count; i++)
        {
            // Both encode paths: the full Encoding and the ids-only one (its own caches and layout).
            var ours = tok.Encode(lines[i]).Ids;
            var idsOnly = tok.EncodeToIds(lines[i]);
            if (ours.AsSpan().SequenceEqual(expected[i]) && idsOnly.AsSpan().SequenceEqual(expected[i])) continue;
            if (differing++ < 8)
                report.AppendLine($"line {i} {OracleParityTests.Escape(lines[i])}\n  ref:  {string.Join(' ', expected[i])}\n  ours: {string.Join(' ', ours)}\n  ids-only: {string.Join(' ', idsOnly)}");
        }
        output.WriteLine($"{path}: {lines.Count} lines compared (Encode and EncodeToIds), {differing} differing");
        Assert.True(differing == 0, $"{differing} of {lines.Count} lines differ:\n{report}");
    }

    public static string Path(string relative) => SharedData.Require(["data", .. relative.Split('/')]);
}
