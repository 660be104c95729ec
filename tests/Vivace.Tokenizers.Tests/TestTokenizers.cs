namespace Vivace.Tokenizers.Tests;

/// <summary>Tokenizers loaded once per test run.</summary>
internal static class TestTokenizers
{
    private static readonly Lazy<Tokenizer> s_uncased = new(() => Tokenizer.FromFile(Oracle.Path("FastBertTokenizer/bert-base-uncased/tokenizer.json")));
    private static readonly Lazy<Tokenizer> s_cased = new(() => Tokenizer.FromFile(Oracle.Path("FastBertTokenizer/bert-base-multilingual-cased/tokenizer.json")));
    private static readonly Lazy<Tokenizer> s_miniLm = new(() => Tokenizer.FromFile(Oracle.Path("daulet-tokenizers/all-minilm-l6-v2.tokenizer.json")));

    public static Tokenizer Uncased { get { Oracle.Path("FastBertTokenizer/bert-base-uncased/tokenizer.json"); return s_uncased.Value; } }
    public static Tokenizer Cased { get { Oracle.Path("FastBertTokenizer/bert-base-multilingual-cased/tokenizer.json"); return s_cased.Value; } }
    public static Tokenizer MiniLm { get { Oracle.Path("daulet-tokenizers/all-minilm-l6-v2.tokenizer.json"); return s_miniLm.Value; } }
}
