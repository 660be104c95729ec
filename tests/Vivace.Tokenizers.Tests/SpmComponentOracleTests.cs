using Vivace.Tests;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Vivace.Tokenizers.Tests;

/// <summary>
/// Pipelines built in the test as tokenizer.json (a real vocabulary behind the component under test), written
/// to a temp file and compared with the reference on the whole corpus: ids, and decodes of every 7th line.
/// </summary>
public class SpmComponentOracleTests(ITestOutputHelper output)
{
    private const string Mbert = "FastBertTokenizer/bert-base-multilingual-cased/tokenizer.json";
    private const string T5 = SpmExpectedOutputTests.T5Small;

    private static readonly Dictionary<string, (string Base, Action<JsonObject> Edit)> Variants = new()
    {
        ["NFC"] = (Mbert, j => j["normalizer"] = Json("""{"type":"NFC"}""")),
        ["NFKC"] = (Mbert, j => j["normalizer"] = Json("""{"type":"NFKC"}""")),
        ["NFKD"] = (Mbert, j => j["normalizer"] = Json("""{"type":"NFKD"}""")),
        ["NFD"] = (Mbert, j => j["normalizer"] = Json("""{"type":"NFD"}""")),
        ["Sequence NFKC Strip Lowercase"] = (Mbert, j => j["normalizer"] = Json(
            """{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Strip","strip_left":true,"strip_right":true},{"type":"Lowercase"}]}""")),
        ["Strip right only, NFKD"] = (Mbert, j => j["normalizer"] = Json(
            """{"type":"Sequence","normalizers":[{"type":"Strip","strip_left":false,"strip_right":true},{"type":"NFKD"}]}""")),
        ["Whitespace"] = (Mbert, j => { j["normalizer"] = null; j["pre_tokenizer"] = Json("""{"type":"Whitespace"}"""); }),
        ["WhitespaceSplit Punctuation Digits(individual)"] = (Mbert, j => { j["normalizer"] = null; j["pre_tokenizer"] = Json(
            """{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Punctuation","behavior":"Isolated"},{"type":"Digits","individual_digits":true}]}"""); }),
        ["Punctuation behaviors, Digits(contiguous)"] = (Mbert, j => { j["normalizer"] = null; j["pre_tokenizer"] = Json(
            """{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Punctuation","behavior":"MergedWithPrevious"},{"type":"Digits","individual_digits":false},{"type":"Punctuation","behavior":"Contiguous"}]}"""); }),
        ["Punctuation MergedWithNext, CharDelimiterSplit"] = (Mbert, j => { j["normalizer"] = null; j["pre_tokenizer"] = Json(
            """{"type":"Sequence","pretokenizers":[{"type":"CharDelimiterSplit","delimiter":" "},{"type":"Punctuation","behavior":"MergedWithNext"},{"type":"Punctuation","behavior":"Removed"}]}"""); }),
        ["UnicodeScripts"] = (Mbert, j => { j["normalizer"] = null; j["pre_tokenizer"] = Json(
            """{"type":"Sequence","pretokenizers":[{"type":"UnicodeScripts"},{"type":"WhitespaceSplit"}]}"""); }),
        ["UnicodeScripts alone"] = (Mbert, j => { j["normalizer"] = null; j["pre_tokenizer"] = Json("""{"type":"UnicodeScripts"}"""); }),
        ["WordLevel behind NFKC + Whitespace"] = (Mbert, j =>
        {
            var vocab = j["model"]!["vocab"]!.DeepClone();
            j["model"] = new JsonObject { ["type"] = "WordLevel", ["vocab"] = vocab, ["unk_token"] = "[UNK]" };
            j["normalizer"] = Json("""{"type":"NFKC"}""");
            j["pre_tokenizer"] = Json("""{"type":"Whitespace"}""");
        }),
        ["WordLevel legacy (no type)"] = (Mbert, j =>
        {
            var vocab = j["model"]!["vocab"]!.DeepClone();
            j["model"] = new JsonObject { ["vocab"] = vocab, ["unk_token"] = "[UNK]" };
            j["pre_tokenizer"] = Json("""{"type":"WhitespaceSplit"}""");
        }),
        ["CTC decoder"] = (Mbert, j => j["decoder"] = Json("""{"type":"CTC","pad_token":"[PAD]","word_delimiter_token":"##","cleanup":true}""")),
        ["Metaspace first"] = (T5, j => SetMetaspace(j, """{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}""")),
        ["Metaspace never, no split"] = (T5, j => SetMetaspace(j, """{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":false}""")),
        ["Metaspace always, no split"] = (T5, j => SetMetaspace(j, """{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":false}""")),
        ["Metaspace legacy add_prefix_space false"] = (T5, j => SetMetaspace(j, """{"type":"Metaspace","replacement":"▁","add_prefix_space":false,"prepend_scheme":"never"}""")),
        ["Metaspace alone (spaces kept)"] = (T5, j => j["pre_tokenizer"] = Json("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}""")),
        ["Metaspace first alone, Precompiled + NFKD"] = (T5, j =>
        {
            j["pre_tokenizer"] = Json("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}""");
            j["normalizer"] = new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(j["normalizer"]!.DeepClone(), Json("""{"type":"NFKD"}""")) };
        }),
        ["Unigram byte_fallback"] = (T5, j => j["model"]!["byte_fallback"] = true),
    };

    private static JsonNode Json(string s) => JsonNode.Parse(s)!;

    private static void SetMetaspace(JsonObject j, string metaspace)
    {
        j["pre_tokenizer"] = Json("""{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"}]}""");
        ((JsonArray)j["pre_tokenizer"]!["pretokenizers"]!).Add(Json(metaspace));
        j["decoder"] = Json(metaspace);
    }

    public static TheoryData<string> Names() => new(Variants.Keys);

    [SkippableTheory]
    [MemberData(nameof(Names))]
    public void Matches_reference_on_corpus(string name)
    {
        var (baseFile, edit) = Variants[name];
        var json = JsonNode.Parse(File.ReadAllText(Oracle.Path(baseFile)))!.AsObject();
        edit(json);
        string path = Path.Combine(Path.GetTempPath(), $"vivace-spm-{name.Replace(' ', '_').Replace('(', '_').Replace(')', '_').Replace(',', '_')}.json");
        File.WriteAllText(path, json.ToJsonString());
        try
        {
            var lines = Corpus.Lines;
            var expected = Oracle.EncodeAll(path, lines);
            var tok = Tokenizer.FromFile(path);
            int differing = 0, decodeDiffering = 0;
            var report = new StringBuilder();
            for (int i = 0; i < lines.Count; i++)
            {
                var ours = tok.Encode(lines[i]).Ids;
                if (!ours.AsSpan().SequenceEqual(expected[i]) && differing++ < 6)
                    report.AppendLine($"line {i} {OracleParityTests.Escape(lines[i])}\n  ref:  {string.Join(' ', expected[i])}\n  ours: {string.Join(' ', ours)}");
                if (i % 7 == 0)
                {
                    string refText = Oracle.Decode(path, expected[i]), ourText = tok.Decode(expected[i]);
                    if (refText != ourText && decodeDiffering++ < 4)
                        report.AppendLine($"decode {i}\n  ref:  {OracleParityTests.Escape(refText)}\n  ours: {OracleParityTests.Escape(ourText)}");
                }
            }
            output.WriteLine($"{name}: {lines.Count} lines, {differing} ids differing, {decodeDiffering} decodes differing");
            Assert.True(differing == 0 && decodeDiffering == 0, $"{differing} ids / {decodeDiffering} decodes differ:\n{report}");
        }
        finally { File.Delete(path); }
    }
}
