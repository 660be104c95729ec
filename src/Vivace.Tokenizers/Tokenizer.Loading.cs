using System.Text.Json;
using Vivace.Tokenizers.AddedTokens;
using Vivace.Tokenizers.Decoders;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.Normalizers;
using Vivace.Tokenizers.PreTokenizers;
using Vivace.Tokenizers.Processors;

namespace Vivace.Tokenizers;

/// <summary>Building a tokenizer from tokenizer.json, a BERT vocab.txt, or a model directory.</summary>
public sealed partial class Tokenizer
{
    public static Tokenizer FromFile(string tokenizerJsonPath) => FromJson(File.ReadAllText(tokenizerJsonPath));

    public static Tokenizer FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        var root = doc.RootElement;
        JsonElement Get(string name) => root.TryGetProperty(name, out var v) ? v : default;

        var model = ModelFactory.FromJson(root.GetProperty("model"));
        var normalizer = NormalizerFactory.FromJson(Get("normalizer"));
        var preTokenizer = PreTokenizerFactory.FromJson(Get("pre_tokenizer"));
        var postProcessor = PostProcessorFactory.FromJson(Get("post_processor"));
        var decoder = DecoderFactory.FromJson(Get("decoder"));
        var added = new AddedVocabulary(AddedVocabulary.ParseJson(Get("added_tokens")), content => Normalize(normalizer, content));
        return new Tokenizer(normalizer, preTokenizer, model, postProcessor, decoder, added,
            TruncationOptions.FromJson(Get("truncation")), PaddingOptions.FromJson(Get("padding")));
    }

    /// <summary>A BERT WordPiece tokenizer from vocab.txt (one token per line; LF or CRLF line endings),
    /// configured as BertTokenizerFast: BERT normalizer and pre-tokenizer, [CLS] A [SEP] (B [SEP]),
    /// the special tokens present in the vocabulary, WordPiece decoder.</summary>
    public static Tokenizer FromVocabTxt(string vocabTxtPath, BertVocabOptions? options = null)
    {
        options ??= new BertVocabOptions();
        var entries = new List<KeyValuePair<string, int>>();
        using (var reader = new StreamReader(vocabTxtPath, System.Text.Encoding.UTF8))
        {
            // ReadLine ends a line at \n, \r\n or \r and drops the ending.
            for (string? line; (line = reader.ReadLine()) != null;)
                entries.Add(new(line, entries.Count));
        }
        var vocab = new Vocabulary(entries);
        var model = new WordPiece(vocab, options.UnkToken, options.ContinuingSubwordPrefix, options.MaxInputCharsPerWord);
        var normalizer = new BertNormalizer(options.CleanText, options.HandleChineseChars,
            options.StripAccents ?? options.Lowercase, options.Lowercase);

        var specials = new List<AddedToken>();
        foreach (string s in new[] { options.PadToken, options.UnkToken, options.ClsToken, options.SepToken, options.MaskToken })
            if (vocab.TryGetId(s, out int id) && specials.All(t => t.Content != s))
                specials.Add(new AddedToken(id, s, Special: true, Normalized: false));

        IPostProcessor? post = vocab.TryGetId(options.ClsToken, out int cls) && vocab.TryGetId(options.SepToken, out int sep)
            ? new BertProcessing(options.SepToken, sep, options.ClsToken, cls)
            : null;
        return new Tokenizer(normalizer, new BertPreTokenizer(), model, post,
            new WordPieceDecoder(options.ContinuingSubwordPrefix, cleanup: true),
            new AddedVocabulary(specials, null), truncation: null, padding: null);
    }

    /// <summary>From a model directory: tokenizer.json if present, else vocab.txt with tokenizer_config.json's
    /// do_lower_case / strip_accents / tokenize_chinese_chars when present.</summary>
    public static Tokenizer FromDirectory(string directory)
    {
        string json = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(json)) return FromFile(json);
        string vocab = Path.Combine(directory, "vocab.txt");
        if (!File.Exists(vocab))
            throw new FileNotFoundException($"Neither tokenizer.json nor vocab.txt found in '{directory}'.", json);

        var options = new BertVocabOptions();
        string config = Path.Combine(directory, "tokenizer_config.json");
        if (File.Exists(config))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(config));
            var c = doc.RootElement;
            options = options with
            {
                Lowercase = JsonRead.Bool(c, "do_lower_case", true),
                StripAccents = JsonRead.NullableBool(c, "strip_accents"),
                HandleChineseChars = JsonRead.Bool(c, "tokenize_chinese_chars", true),
                ClsToken = TokenName(c, "cls_token") ?? options.ClsToken,
                SepToken = TokenName(c, "sep_token") ?? options.SepToken,
                UnkToken = TokenName(c, "unk_token") ?? options.UnkToken,
                PadToken = TokenName(c, "pad_token") ?? options.PadToken,
                MaskToken = TokenName(c, "mask_token") ?? options.MaskToken,
            };
        }
        return FromVocabTxt(vocab, options);
    }

    /// <summary>A special token in tokenizer_config.json: a string or an object with "content".</summary>
    private static string? TokenName(JsonElement config, string name) =>
        config.TryGetProperty(name, out var v)
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ValueKind == JsonValueKind.Object ? JsonRead.String(v, "content") : null
            : null;

    private static string Normalize(INormalizer? normalizer, string text)
    {
        if (normalizer is null) return text;
        var ns = new NormalizedString();
        ns.Reset(text, 0, text.Length);
        normalizer.Normalize(ns);
        return ns.Normalized.ToString();
    }
}
