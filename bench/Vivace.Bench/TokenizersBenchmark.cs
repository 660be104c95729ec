using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Vivace.Bench;

/// <summary>
/// Tokenizer throughput, single thread, same inputs for every side: Vivace, HF tokenizers (Tokenizers.DotNet),
/// Microsoft.ML.Tokenizers and FastBertTokenizer on bert-base-uncased (WordPiece) and GPT-2 (byte-level BPE),
/// one call per line and ~8 KB documents. Prints MB/s (UTF-8 input bytes) and tokens/s, then the speedups.
/// </summary>
public static class TokenizersBenchmark
{
    private sealed record Side(string Name, Func<string, int> CountTokens);

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        string shared = SharedDataPath();
        var (lines, documents) = BenchText.Load(quick ? 4000 : 20000);
        long lineBytes = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l));
        long docBytes = documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
        TimeSpan budget = TimeSpan.FromSeconds(quick ? 2 : 8);
        Console.WriteLine($"tokenizers, single thread, {lines.Count} lines ({lineBytes / 1e6:F2} MB) and {documents.Count} documents of ~8 KB ({docBytes / 1e6:F2} MB); {EmbedBenchmark.Machine()}, {DateTime.UtcNow:yyyy-MM-dd}{(quick ? ", --quick" : "")}");
        Console.WriteLine();
        Console.WriteLine("| tokenizer | implementation | lines MB/s | lines Mtok/s | docs MB/s | docs Mtok/s |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");

        string bert = Path.Combine(shared, "data", "FastBertTokenizer", "bert-base-uncased", "tokenizer.json");
        string bertVocab = VocabTxtFrom(bert);
        var fastBert = new FastBertTokenizer.BertTokenizer();
        using (var stream = File.OpenRead(bert)) fastBert.LoadTokenizerJson(stream);
        var wordPiece = new List<Side>
        {
            Vivace(bert),
            HfTokenizers(bert),
            new("Microsoft.ML.Tokenizers", MlNet(Microsoft.ML.Tokenizers.BertTokenizer.Create(bertVocab))),
            new("FastBertTokenizer", text => fastBert.Encode(text, maximumTokens: 1 << 16).InputIds.Length),
        };
        var wp = Measure("bert-base-uncased", wordPiece, lines, documents, lineBytes, docBytes, budget);

        string gpt2 = Path.Combine(shared, "data", "swift-transformers", "tokenizers", "gpt2_tokenizer.json");
        var bpe = new List<Side>
        {
            Vivace(gpt2),
            HfTokenizers(gpt2),
            new("Microsoft.ML.Tokenizers", MlNet(Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForModel("gpt2"))),
        };
        var bp = Measure("gpt2", bpe, lines, documents, lineBytes, docBytes, budget);

        Console.WriteLine();
        Console.WriteLine($"wordpiece speedup vs fastberttokenizer: {Speedup(wp, "Vivace", "FastBertTokenizer")}");
        Console.WriteLine($"bpe speedup vs microsoft.ml.tokenizers: {Speedup(bp, "Vivace", "Microsoft.ML.Tokenizers")}");
        return 0;
    }

    private static Side Vivace(string path)
    {
        try
        {
            var tokenizer = global::Vivace.Tokenizers.Tokenizer.FromFile(path).WithoutTruncation().WithoutPadding();
            return new Side("Vivace", text => tokenizer.EncodeToIds(text).Length);
        }
        catch (NotSupportedException e)
        {
            Console.Error.WriteLine($"Vivace cannot load {Path.GetFileName(path)} yet: {e.Message}");
            return new Side("Vivace", _ => -1);
        }
    }

    private static Side HfTokenizers(string path)
    {
        var hf = new global::Tokenizers.DotNet.Tokenizer(vocabPath: path);
        return new Side("HF tokenizers (Tokenizers.DotNet)", text => hf.Encode(text).Length);
    }

    private static Func<string, int> MlNet(Microsoft.ML.Tokenizers.Tokenizer tokenizer) => text => tokenizer.EncodeToIds(text).Count;

    /// <summary>(side name → (lines MB/s, docs MB/s)); a side that cannot run gets NaN.</summary>
    private static Dictionary<string, (double Lines, double Docs)> Measure(string title, List<Side> sides, List<string> lines, List<string> documents,
        long lineBytes, long docBytes, TimeSpan budget)
    {
        var result = new Dictionary<string, (double, double)>();
        string[]? only = Environment.GetEnvironmentVariable("VIVACE_BENCH_ONLY")?.Split(','); // e.g. "Vivace", to profile one side
        var running = new List<Side>();
        foreach (Side side in sides)
        {
            if (only != null && !only.Contains(side.Name)) continue;
            if (side.CountTokens("warm up") >= 0) { running.Add(side); continue; }
            result[side.Name] = (double.NaN, double.NaN);
            Console.WriteLine($"| {title} | {side.Name} | n/a | n/a | n/a | n/a |");
        }
        var linesTimed = Time(running, lines, budget);
        var docsTimed = Time(running, documents, budget);
        foreach (Side side in running)
        {
            var (lineSeconds, lineTokens) = linesTimed[side.Name];
            var (docSeconds, docTokens) = docsTimed[side.Name];
            result[side.Name] = (lineBytes / lineSeconds / 1e6, docBytes / docSeconds / 1e6);
            Console.WriteLine($"| {title} | {side.Name} | {lineBytes / lineSeconds / 1e6:F1} | {lineTokens / lineSeconds / 1e6:F2} | {docBytes / docSeconds / 1e6:F1} | {docTokens / docSeconds / 1e6:F2} |");
        }
        return result;
    }

    /// <summary>A warm pass per side, then rounds in which every side makes one whole pass over the inputs, until
    /// the budget (per side); each side's median pass time. Interleaving the sides means a slow spell of this
    /// shared machine hits all of them alike instead of whichever ran during it.</summary>
    private static Dictionary<string, (double Seconds, long Tokens)> Time(List<Side> sides, List<string> inputs, TimeSpan budget)
    {
        var tokens = new Dictionary<string, long>();
        var passes = new Dictionary<string, List<double>>();
        foreach (Side side in sides)
        {
            long count = 0;
            foreach (string s in inputs) count += side.CountTokens(s);
            tokens[side.Name] = count;
            passes[side.Name] = [];
        }
        var total = System.Diagnostics.Stopwatch.StartNew();
        for (int round = 0; round < 3 || (total.Elapsed < budget * sides.Count && round < 50); round++)
        {
            foreach (Side side in sides)
            {
                long start = Stopwatch.GetTimestamp();
                foreach (string s in inputs) side.CountTokens(s);
                passes[side.Name].Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        }
        return sides.ToDictionary(s => s.Name, s =>
        {
            var p = passes[s.Name];
            p.Sort();
            return (p[p.Count / 2], tokens[s.Name]);
        });
    }

    /// <summary>Geometric mean over lines and documents of (ours MB/s ÷ rival MB/s).</summary>
    private static string Speedup(Dictionary<string, (double Lines, double Docs)> r, string ours, string rival)
    {
        if (!r.ContainsKey(ours) || !r.ContainsKey(rival)) return "n/a (not measured in this run)";
        if (double.IsNaN(r[ours].Lines)) return "n/a (Vivace cannot load this tokenizer yet)";
        return Math.Sqrt(r[ours].Lines / r[rival].Lines * (r[ours].Docs / r[rival].Docs)).ToString("F2");
    }

    /// <summary>A vocab.txt (one token per line, in id order) from a WordPiece tokenizer.json, for the rivals that need one.</summary>
    private static string VocabTxtFrom(string tokenizerJson)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(tokenizerJson));
        var vocab = doc.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject()
            .OrderBy(p => p.Value.GetInt32()).Select(p => p.Name);
        string path = Path.Combine(Path.GetTempPath(), "vivace-bench-bert-vocab.txt");
        File.WriteAllLines(path, vocab);
        return path;
    }

    internal static string SharedDataPath()
    {
        string? env = Environment.GetEnvironmentVariable("VIVACE_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Vivace.slnx")))
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
        throw new DirectoryNotFoundException("shared test data not found: set VIVACE_SHARED or place ../shared beside the repository");
    }
}
