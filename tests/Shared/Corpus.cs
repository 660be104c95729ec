using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vivace.Tests;

namespace Vivace.Tests;

/// <summary>
/// A few thousand real lines assembled at test time from text already on the machine (licences, package
/// docs and changelogs, translated man pages, locale data decoded from its &lt;Uxxxx&gt; escapes, shared test
/// inputs) plus built-in hard cases. Deterministic: files are read in sorted order with fixed caps.
/// </summary>
internal static partial class Corpus
{
    private static readonly Lazy<IReadOnlyList<string>> s_lines = new(Build);

    public static IReadOnlyList<string> Lines => s_lines.Value;

    /// <summary>Inputs that stress specific rules; every one must match the reference too.</summary>
    public static readonly string[] HardCases =
    [
        "", " ", "   \t\n  ", "\r\n", "hello", "Hello, World!", "[CLS] hello [SEP] world [MASK].", "[cls] lower [sep]",
        "a[MASK]b", "[MASK][MASK]", "[PAD] [UNK] [unk]", "un[SEP]done", "İstanbul'da İ ı I i", "Straße STRASSE",
        "ΣΊΣΥΦΟΣ σίσυφος", "Ǆemal ǅ ǆ", "ﬁne ﬂow ﬀ", "Å Å Å", "e\u0301 a\u0300\u0323 o\u0323\u0302", "ᾼ ᾳ",
        "生活的真谛是", "我爱北京天安门。", "日本語のテキスト、カタカナ。", "한국어 텍스트입니다 각", "漢字𠀀𪜀𫝀𫠠𬺰丽",
        "\u2F800\u2FA1D", "مرحبا بالعالم", "שלום עולם", "Привет, мир! Ёлка", "नमस्ते दुनिया", "ภาษาไทย", "Ελληνικά",
        "emoji 😀 👍🏽 👨‍👩‍👧 🇫🇷 ❤️", "zero\u200Bwidth\u200Djoin\u200Cer", "soft\u00ADhyphen", "tab\there\u000Bvt\u000Cff",
        "nul\0char", "\u0085next\u2028line\u2029para", "nbsp\u00A0thin\u2009ideo\u3000space", "bom\uFEFFmark",
        "replacement \uFFFD char", "private \uE000 use", "control \u0001\u0007\u001F\u007F end",
        "quotes “curly” ‘single’ «angle» „low“", "dashes – — ‐ ‑ ‒", "math ∑ ∫ ≤ ≥ ± × ÷", "currency € £ ¥ ₹ ₿ $",
        "punct ¡¿ § ¶ † ‡ • … ‰ ′ ″", "brackets ⟨x⟩ 【y】 〈z〉 「q」", "a_b-c.d,e;f:g!h?i", "e-mail: some.one@example.com",
        "url https://example.com/path?q=1&r=2#frag", "code: if (x != y) { return a[i] * 2; }", "1,234.56 and 7.8e-9",
        "don't can't won't I'm you're they've it's", "ALL CAPS SENTENCE", "MiXeD CaSe WoRdS",
        new string('a', 99), new string('a', 100), new string('a', 101), new string('é', 100), new string('é', 101),
        "pre " + new string('x', 150) + " post", string.Concat(Enumerable.Repeat("😀", 101)), string.Concat(Enumerable.Repeat("😀", 100)),
        "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
        "Fatouville-Grestain est une commune du Nord-Ouest du département de l'Eure",
        "tokenization tokenizer tokenizers ##hash ## #", "###", "a ## b", "〇一二三", "𝐀𝐁𝐂 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
        "x\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307", "Ḁ ḁ Ẫ ẫ Ǻ ǻ", "ʻokina ʼapostrophe", "ǅungla Ǉ",
        "\u0E01\u0E49\u0E32", "\u0915\u094D\u0937", "𞤀𞤁 adlam", "Ꭰ Ꭱ cherokee ꭰ", "Ⓐ ⓐ ⑴", "™ ℠ ℃ № ℡",
    ];

    private static IReadOnlyList<string> Build()
    {
        var lines = new List<string>();
        lines.AddRange(HardCases);
        AddFiles(lines, Directory.Exists("/usr/share/common-licenses") ? Directory.GetFiles("/usr/share/common-licenses") : [], perFile: 80, maxTotal: 2500);
        AddFiles(lines, DocFiles(), perFile: 30, maxTotal: 8000);
        AddFiles(lines, ManPages(), perFile: 25, maxTotal: 10000);
        AddLocales(lines, maxTotal: 3000);
        AddSharedInputs(lines);
        AddMutations(lines);
        return lines;
    }

    /// <summary>Variants of real lines with invisible and control characters spliced in, and upper-cased.</summary>
    private static void AddMutations(List<string> lines)
    {
        string[] inserts = ["\u0001", "\0", "\u001B[0m", "\u007F", "\u200B", "\u00AD", "\uFEFF", "\u0085", "\u000B", "\u2028", "\u00A0", "\u3000", "\uFFFD", "\u0301", "\u200D"];
        var source = lines.Where(l => l.Length > 10).ToList();
        for (int i = 0; i < source.Count && i < 6000; i += 15)
        {
            string l = source[i];
            int at = (i * 7919) % l.Length;
            if (char.IsLowSurrogate(l[at])) at--;
            lines.Add(l[..at] + inserts[i / 15 % inserts.Length] + l[at..]);
            lines.Add(l.ToUpperInvariant());
        }
    }

    private static IEnumerable<string> DocFiles()
    {
        if (!Directory.Exists("/usr/share/doc")) return [];
        return Directory.GetDirectories("/usr/share/doc").Order(StringComparer.Ordinal)
            .SelectMany(d => Directory.GetFiles(d).Order(StringComparer.Ordinal)
                .Where(f => Path.GetFileName(f).StartsWith("changelog", StringComparison.OrdinalIgnoreCase)
                    || Path.GetFileName(f).StartsWith("README", StringComparison.OrdinalIgnoreCase)
                    || Path.GetFileName(f).StartsWith("NEWS", StringComparison.OrdinalIgnoreCase))
                .Take(1));
    }

    private static IEnumerable<string> ManPages()
    {
        if (!Directory.Exists("/usr/share/man")) return [];
        // Translated pages first (accents, Cyrillic, ...), a few per language, then some English.
        var langs = Directory.GetDirectories("/usr/share/man").Where(d => !Path.GetFileName(d).StartsWith("man")).Order(StringComparer.Ordinal);
        var translated = langs.SelectMany(l => Directory.EnumerateFiles(l, "*.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(40));
        var english = Directory.Exists("/usr/share/man/man1")
            ? Directory.GetFiles("/usr/share/man/man1", "*.gz").Order(StringComparer.Ordinal).Take(150)
            : [];
        return translated.Concat(english);
    }

    private static void AddFiles(List<string> lines, IEnumerable<string> files, int perFile, int maxTotal)
    {
        int added = 0;
        foreach (var f in files)
        {
            if (added >= maxTotal) break;
            int n = 0;
            foreach (var line in ReadLines(f))
            {
                if (line.Trim().Length < 3) continue;
                lines.Add(line.Length > 3000 ? line[..3000] : line);
                added++;
                if (++n >= perFile || added >= maxTotal) break;
            }
        }
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        List<string> result = [];
        try
        {
            using Stream raw = File.OpenRead(path);
            using Stream s = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(raw, CompressionMode.Decompress) : raw;
            using var reader = new StreamReader(s, new UTF8Encoding(false, false));
            for (string? l; (l = reader.ReadLine()) != null && result.Count < 400;) result.Add(l);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        catch (InvalidDataException) { }
        return result;
    }

    [GeneratedRegex("<U([0-9A-Fa-f]{4,6})>")]
    private static partial Regex UEscape();

    /// <summary>glibc locale sources spell text as &lt;Uxxxx&gt;: month and day names, yes/no words, ... in
    /// every script. Decoded lines with non-ASCII letters are kept.</summary>
    private static void AddLocales(List<string> lines, int maxTotal)
    {
        const string dir = "/usr/share/i18n/locales";
        if (!Directory.Exists(dir)) return;
        int added = 0;
        foreach (var f in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
        {
            int n = 0;
            foreach (var line in ReadLines(f))
            {
                if (!line.Contains("<U", StringComparison.Ordinal) || line.StartsWith('%')) continue;
                string decoded = UEscape().Replace(line, m =>
                {
                    int cp = Convert.ToInt32(m.Groups[1].Value, 16);
                    return cp is > 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF) ? char.ConvertFromUtf32(cp) : "";
                }).Replace("\";\"", " ").Replace("\"", "");
                if (!decoded.Any(c => c > 0x7F)) continue;
                lines.Add(decoded);
                added++;
                if (++n >= 4) break;
            }
            if (added >= maxTotal) break;
        }
    }

    private static void AddSharedInputs(List<string> lines)
    {
        if (SharedData.Path is not { } root) return;
        string inputs = Path.Combine(root, "data/swift-transformers/multilingual-conformance/inputs.json");
        if (File.Exists(inputs))
            foreach (var e in JsonDocument.Parse(File.ReadAllText(inputs)).RootElement.EnumerateArray())
                lines.Add(e.GetProperty("text").GetString()!);
        string tests = Path.Combine(root, "data/swift-transformers/tokenizer_tests.json");
        if (File.Exists(tests))
            foreach (var model in JsonDocument.Parse(File.ReadAllText(tests)).RootElement.EnumerateObject())
                foreach (var c in model.Value.EnumerateArray())
                    lines.Add(c.GetProperty("input").GetString()!);
        string squad = Path.Combine(root, "data/swift-transformers/bert-squad/question_tokens.json");
        if (File.Exists(squad))
            foreach (var q in JsonDocument.Parse(File.ReadAllText(squad)).RootElement.EnumerateArray().Take(600))
                lines.Add(q.GetProperty("original").GetString()!);
        string ggml = Path.Combine(root, "data/llama.cpp/vocab-tests/ggml-vocab.inp");
        if (File.Exists(ggml))
            lines.AddRange(File.ReadAllText(ggml).Split("\n__ggml_vocab_test__\n"));
    }
}
