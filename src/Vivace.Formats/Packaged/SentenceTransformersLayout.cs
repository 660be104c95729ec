using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vivace.Formats.Packaged;

/// <summary>
/// Writes the files that make a directory a sentence-transformers model: <c>modules.json</c> (Transformer →
/// Pooling → Normalize), <c>1_Pooling/config.json</c>, <c>sentence_bert_config.json</c>, and the BERT tokenizer's
/// <c>tokenizer_config.json</c> / <c>special_tokens_map.json</c> for a <c>vocab.txt</c>-only package.
/// </summary>
public static class SentenceTransformersLayout
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The pooling a sentence-transformers Pooling module applies.</summary>
    public enum Pooling { Mean, Cls, Max }

    public static string ModulesJson(bool normalize)
    {
        var modules = new JsonArray
        {
            Module(0, "", "sentence_transformers.models.Transformer"),
            Module(1, "1_Pooling", "sentence_transformers.models.Pooling"),
        };
        if (normalize) modules.Add(Module(2, "2_Normalize", "sentence_transformers.models.Normalize"));
        return modules.ToJsonString(Indented);
    }

    private static JsonObject Module(int idx, string path, string type) => new()
    {
        ["idx"] = idx,
        ["name"] = idx.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["path"] = path,
        ["type"] = type,
    };

    public static string PoolingConfigJson(int dimension, Pooling pooling) => new JsonObject
    {
        ["word_embedding_dimension"] = dimension,
        ["pooling_mode_cls_token"] = pooling == Pooling.Cls,
        ["pooling_mode_mean_tokens"] = pooling == Pooling.Mean,
        ["pooling_mode_max_tokens"] = pooling == Pooling.Max,
        ["pooling_mode_mean_sqrt_len_tokens"] = false,
    }.ToJsonString(Indented);

    public static string SentenceBertConfigJson(int maxSeqLength, bool doLowerCase) => new JsonObject
    {
        ["max_seq_length"] = maxSeqLength,
        ["do_lower_case"] = doLowerCase,
    }.ToJsonString(Indented);

    /// <summary>A BertTokenizer (WordPiece over vocab.txt) config.</summary>
    public static string BertTokenizerConfigJson(bool lowerCase, int modelMaxLength) => new JsonObject
    {
        ["tokenizer_class"] = "BertTokenizer",
        ["do_lower_case"] = lowerCase,
        ["do_basic_tokenize"] = true,
        ["tokenize_chinese_chars"] = true,
        ["strip_accents"] = null,
        ["model_max_length"] = modelMaxLength,
        ["clean_up_tokenization_spaces"] = true,
        ["unk_token"] = "[UNK]",
        ["sep_token"] = "[SEP]",
        ["pad_token"] = "[PAD]",
        ["cls_token"] = "[CLS]",
        ["mask_token"] = "[MASK]",
    }.ToJsonString(Indented);

    public static string BertSpecialTokensMapJson() => new JsonObject
    {
        ["unk_token"] = "[UNK]",
        ["sep_token"] = "[SEP]",
        ["pad_token"] = "[PAD]",
        ["cls_token"] = "[CLS]",
        ["mask_token"] = "[MASK]",
    }.ToJsonString(Indented);
}
