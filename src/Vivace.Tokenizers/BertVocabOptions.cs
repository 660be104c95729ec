namespace Vivace.Tokenizers;

/// <summary>How to build a BERT tokenizer from a bare vocab.txt (what BertTokenizerFast does by default).</summary>
public sealed record BertVocabOptions
{
    public bool Lowercase { get; init; } = true;

    /// <summary>Null: follow <see cref="Lowercase"/>, as the reference does.</summary>
    public bool? StripAccents { get; init; }

    public bool HandleChineseChars { get; init; } = true;
    public bool CleanText { get; init; } = true;
    public string ClsToken { get; init; } = "[CLS]";
    public string SepToken { get; init; } = "[SEP]";
    public string UnkToken { get; init; } = "[UNK]";
    public string PadToken { get; init; } = "[PAD]";
    public string MaskToken { get; init; } = "[MASK]";
    public string ContinuingSubwordPrefix { get; init; } = "##";
    public int MaxInputCharsPerWord { get; init; } = 100;
}
