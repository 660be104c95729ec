using System.Text.Json;

namespace Vivace.Tokenizers.Tests;

/// <summary>The byte-level and SentencePiece-style BPE tokenizers in shared/data, loaded once.</summary>
internal static class BpeTestFiles
{
    public const string Gpt2 = "swift-transformers/tokenizers/gpt2_tokenizer.json";
    public const string Llama2 = "swift-transformers/tokenizers/llama_tokenizer.json";
    public const string Phi2 = "ort-extensions/phi-2/tokenizer.json";
    public const string Phi3 = "ort-extensions/phi-3-mini/tokenizer.json";
    public const string Falcon = "ort-extensions/falcon/tokenizer.json";
    public const string Roberta = "ort-extensions/roberta-base/tokenizer.json";
    public const string TinyGpt2 = "ort-genai/tiny-random-gpt2/tokenizer.json";
    public const string AddedTokens = "ort-extensions/added-tokens/tokenizer.json";

    /// <summary>Every BPE tokenizer.json here (the oracle loads each).</summary>
    public static readonly string[] JsonFiles = [Gpt2, Llama2, Phi2, Phi3, Falcon, Roberta, TinyGpt2];

    public const string Llama3Tiktoken = "daulet-tokenizers/meta-llama-3-8b-instruct/tiktoken.model";
    public const string Cl100kTiktoken = "dotnet-machinelearning/cl100k_base.tiktoken";

    private static readonly Dictionary<string, Tokenizer> s_cache = new();

    /// <summary>A tokenizer.json, or a tiktoken-derived tokenizer for the two rank files; skipped when this
    /// branch lacks one of its components (reported by <see cref="UnsupportedComponentException"/>).</summary>
    public static Tokenizer Load(string file)
    {
        lock (s_cache)
        {
            if (s_cache.TryGetValue(file, out var t)) return t;
            try
            {
                t = file switch
                {
                    Llama3Tiktoken => Tokenizer.FromTiktoken(Oracle.Path(file), Tokenizer.Cl100kPattern, Llama3Specials(), "<|begin_of_text|>"),
                    Cl100kTiktoken => Tokenizer.FromTiktoken(Oracle.Path(file), Tokenizer.Cl100kPattern,
                        new Dictionary<string, int> { ["<|endoftext|>"] = 100257 }),
                    _ => Tokenizer.FromFile(Oracle.Path(file)),
                };
            }
            catch (UnsupportedComponentException e)
            {
                Skip.If(true, $"{file}: {e.Message}");
                throw;
            }
            return s_cache[file] = t;
        }
    }

    public static Dictionary<string, int> Llama3Specials()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Oracle.Path("daulet-tokenizers/meta-llama-3-8b-instruct/tokenizer_config.json")));
        var result = new Dictionary<string, int>();
        foreach (var p in doc.RootElement.GetProperty("added_tokens_decoder").EnumerateObject())
            result[p.Value.GetProperty("content").GetString()!] = int.Parse(p.Name);
        return result;
    }
}
