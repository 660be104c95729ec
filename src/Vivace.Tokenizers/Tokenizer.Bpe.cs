using System.Text.Json;
using Vivace.Tokenizers.AddedTokens;
using Vivace.Tokenizers.Decoders;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.PreTokenizers;
using Vivace.Tokenizers.Processors;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers;

/// <summary>Byte-level BPE tokenizers from GPT-2's vocab.json + merges.txt and from tiktoken rank files,
/// mapped onto the same pipeline a tokenizer.json would describe.</summary>
public sealed partial class Tokenizer
{
    /// <summary>The GPT-4 (cl100k_base) and Llama-3 pre-tokenization regex.</summary>
    public const string Cl100kPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>GPT-2 style: vocab.json (token -> id) and merges.txt ("a b" per line, "#version" header),
    /// ByteLevel pre-tokenizer with the GPT-2 regex, ByteLevel decoder. Tokens of
    /// <paramref name="specialTokens"/> found in the vocabulary (default "&lt;|endoftext|&gt;") are special.</summary>
    public static Tokenizer FromVocabJsonAndMerges(string vocabJsonPath, string mergesPath, bool addPrefixSpace = false,
        IEnumerable<string>? specialTokens = null)
    {
        var entries = new List<KeyValuePair<string, int>>();
        using (var doc = JsonDocument.Parse(File.ReadAllText(vocabJsonPath)))
            foreach (var p in doc.RootElement.EnumerateObject()) entries.Add(new(p.Name, p.Value.GetInt32()));
        var vocab = new Vocabulary(entries);

        var merges = new List<(string, string)>();
        foreach (string line in File.ReadLines(mergesPath))
        {
            if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal)) continue;
            int sp = line.IndexOf(' ');
            if (sp > 0) merges.Add((line[..sp], line[(sp + 1)..].TrimEnd('\r')));
        }

        var specials = new List<AddedToken>();
        foreach (string s in specialTokens ?? ["<|endoftext|>"])
            if (vocab.TryGetId(s, out int id)) specials.Add(new AddedToken(id, s, Special: true, Normalized: false));

        return new Tokenizer(null, new ByteLevelPreTokenizer(addPrefixSpace, useRegex: true), new Bpe(vocab, merges),
            new ByteLevelProcessing(trimOffsets: false, addPrefixSpace), new ByteLevelDecoder(),
            new AddedVocabulary(specials, null), truncation: null, padding: null);
    }

    /// <summary>
    /// From a tiktoken rank file ("base64 rank" per line, e.g. cl100k_base.tiktoken or Llama-3's tiktoken.model):
    /// the vocabulary is the ranks' bytes through GPT-2's byte-to-character table, merges are every split of a
    /// token into two lower-ranked tokens (by the token's rank, then the halves' ranks), words already in the
    /// vocabulary are one token (ignore_merges), and the text is split by <paramref name="pattern"/> (isolated)
    /// before the byte-level mapping. <paramref name="specialTokens"/> are matched in the raw text; with
    /// <paramref name="bosToken"/>, encoding with special tokens puts it first.
    /// </summary>
    public static Tokenizer FromTiktoken(string path, string pattern = Cl100kPattern,
        IReadOnlyDictionary<string, int>? specialTokens = null, string? bosToken = null)
    {
        var table = ByteLevelTable.ByteToChar;
        var entries = new List<KeyValuePair<string, int>>();
        Span<char> chars = stackalloc char[1024];
        foreach (string line in File.ReadLines(path))
        {
            int sp = line.IndexOf(' ');
            if (sp <= 0) continue;
            byte[] bytes = Convert.FromBase64String(line[..sp]);
            int rank = int.Parse(line.AsSpan(sp + 1));
            var name = new char[bytes.Length];
            for (int i = 0; i < bytes.Length; i++) name[i] = table[bytes[i]];
            entries.Add(new(new string(name), rank));
        }
        var vocab = new Vocabulary(entries);

        var merges = new List<(int Rank, int L, int R, string A, string B)>();
        foreach (var (token, rank) in entries)
        {
            for (int k = 1; k < token.Length; k++)
            {
                if (vocab.TryGetId(token.AsSpan(0, k), out int l) && l < rank
                    && vocab.TryGetId(token.AsSpan(k), out int r) && r < rank)
                    merges.Add((rank, l, r, token[..k], token[k..]));
            }
        }
        merges.Sort((x, y) => x.Rank != y.Rank ? x.Rank.CompareTo(y.Rank) : x.L != y.L ? x.L.CompareTo(y.L) : x.R.CompareTo(y.R));
        var model = new Bpe(vocab, merges.Select(m => (m.A, m.B)), ignoreMerges: true);

        var added = new List<AddedToken>();
        if (specialTokens != null)
            foreach (var (content, id) in specialTokens) added.Add(new AddedToken(id, content, Special: true, Normalized: false));

        IPreTokenizer pre = ByteLevelPreTokenizer.AfterRegexSplits([pattern]);
        IPostProcessor post = new ByteLevelProcessing(trimOffsets: false, addPrefixSpace: false);
        if (bosToken != null && specialTokens != null && specialTokens.TryGetValue(bosToken, out int bos))
            post = new BosProcessing(bosToken, bos);
        return new Tokenizer(null, pre, model, post, new ByteLevelDecoder(), new AddedVocabulary(added, null),
            truncation: null, padding: null);
    }

    /// <summary>Llama-3 style: a BOS token before the sequence (and before the second of a pair).</summary>
    private sealed class BosProcessing(string bosToken, int bosId) : IPostProcessor
    {
        public int AddedTokens(bool isPair) => isPair ? 2 : 1;

        public void Process(List<TokenEntry> a, List<TokenEntry>? b, bool addSpecialTokens, List<TokenEntry> output)
        {
            if (addSpecialTokens) output.Add(new TokenEntry(bosId, bosToken, 0, 0, 0, true));
            output.AddRange(a);
            if (b == null) return;
            if (addSpecialTokens) output.Add(new TokenEntry(bosId, bosToken, 0, 0, 1, true));
            foreach (var t in b) output.Add(t with { TypeId = 1 });
        }
    }
}
