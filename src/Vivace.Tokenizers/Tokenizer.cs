using Vivace.Tokenizers.AddedTokens;
using Vivace.Tokenizers.Decoders;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.Normalizers;
using Vivace.Tokenizers.PreTokenizers;
using Vivace.Tokenizers.Processors;

namespace Vivace.Tokenizers;

/// <summary>
/// A Hugging Face tokenizer pipeline: added tokens are split out of the raw text, the rest is normalized,
/// pre-tokenized into words, run through the model, then truncated, post-processed (special tokens, type
/// ids) and padded. Immutable and thread-safe; <c>With...</c> methods return a modified copy.
/// </summary>
public sealed partial class Tokenizer
{
    private readonly INormalizer? _normalizer;
    private readonly IPreTokenizer? _preTokenizer;
    private readonly IModel _model;
    private readonly IPostProcessor _postProcessor;
    private readonly IDecoder? _decoder;
    private readonly AddedVocabulary _added;
    private readonly bool _byteLevel;
    /// <summary>The SentencePiece vocabulary this tokenizer was built from, for <see cref="ToGgufMetadata"/>; null otherwise.</summary>
    private SentencePieceVocabulary? _sentencePieces;

    /// <summary>Inputs per batch from which <see cref="EncodeBatch"/> spreads the work across cores.</summary>
    private const int ParallelBatchThreshold = 8;

    internal Tokenizer(INormalizer? normalizer, IPreTokenizer? preTokenizer, IModel model, IPostProcessor? postProcessor,
        IDecoder? decoder, AddedVocabulary added, TruncationOptions? truncation, PaddingOptions? padding)
    {
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _model = model;
        _postProcessor = postProcessor ?? ConcatenateProcessor.Instance;
        _decoder = decoder;
        _added = added;
        _byteLevel = ByteLevelPreTokenizer.IsIn(preTokenizer);
        Truncation = truncation;
        Padding = padding;
        VocabSize = _model.VocabSize + _added.Tokens.Count(t => _model.TokenToId(t.Content) is null);
        _wordIds = WordIdCacheFor(model);
        _wordPiece = model as WordPiece;
        _alignmentNeeded = NeedsAlignment(preTokenizer);
        _singleWithSpecial = SingleLayout(addSpecialTokens: true);
        _singlePlain = SingleLayout(addSpecialTokens: false);
    }

    /// <summary>Truncation applied by every encode call, or null.</summary>
    public TruncationOptions? Truncation { get; }

    /// <summary>Padding applied by every encode call (a single encoding is padded as a batch of one), or null.</summary>
    public PaddingOptions? Padding { get; }

    /// <summary>The added tokens (special tokens and others matched as a whole).</summary>
    public IReadOnlyList<AddedToken> AddedTokens => _added.Tokens;

    private Tokenizer With(TruncationOptions? truncation, PaddingOptions? padding) =>
        new(_normalizer, _preTokenizer, _model, _postProcessor, _decoder, _added, truncation, padding) { _sentencePieces = _sentencePieces };

    public Tokenizer WithTruncation(int maxLength, TruncationStrategy strategy = TruncationStrategy.LongestFirst,
        TruncationDirection direction = TruncationDirection.Right, int stride = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        return With(new TruncationOptions(maxLength, strategy, direction, stride), Padding);
    }

    public Tokenizer WithTruncation(TruncationOptions? options) => With(options, Padding);

    public Tokenizer WithoutTruncation() => With(null, Padding);

    public Tokenizer WithPadding(PaddingOptions? options) => With(Truncation, options);

    public Tokenizer WithoutPadding() => With(Truncation, null);

    /// <summary>Encodes one text; when truncation cuts it, the cut-off windows are in <see cref="Encoding.Overflowing"/>.</summary>
    public Encoding Encode(string text, bool addSpecialTokens = true) => EncodeWithOverflowing(text, null, addSpecialTokens);

    public Encoding EncodePair(string a, string b, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(b);
        return EncodeWithOverflowing(a, b, addSpecialTokens);
    }

    /// <summary>Encodes each text; with padding, all come out the same length (BatchLongest or Fixed).</summary>
    public IReadOnlyList<Encoding> EncodeBatch(IReadOnlyList<string> texts, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var all = new List<TokenEntry>[texts.Count];
        var overflow = new List<List<TokenEntry>>?[texts.Count];
        List<TokenEntry> One(int i)
        {
            var o = Truncation != null ? new List<List<TokenEntry>>() : null;
            overflow[i] = o;
            return EncodeEntries(texts[i], null, addSpecialTokens, o);
        }
        if (texts.Count >= ParallelBatchThreshold && Environment.ProcessorCount > 1)
            Parallel.For(0, texts.Count, i => all[i] = One(i));
        else
            for (int i = 0; i < texts.Count; i++) all[i] = One(i);

        if (Padding != null && all.Length > 0)
        {
            int target = Padding.TargetLength(all.Max(e => e.Count));
            foreach (var e in all) Padding.Pad(e, target);
            foreach (var o in overflow)
                if (o != null) foreach (var e in o) Padding.Pad(e, target);
        }
        var result = new Encoding[all.Length];
        for (int i = 0; i < all.Length; i++)
        {
            result[i] = ToEncoding(all[i]);
            if (overflow[i] is { Count: > 0 } o) result[i].Overflowing = o.Select(ToEncoding).ToArray();
        }
        return result;
    }

    /// <summary>Text from ids with the decoder (WordPiece: "##" joining and cleanup); unknown ids are skipped.
    /// <paramref name="cleanUpTokenizationSpaces"/> additionally applies Python transformers'
    /// clean_up_tokenization over the whole text (" 've" -> "'ve", ...), as its decode does for BERT.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true, bool cleanUpTokenizationSpaces = false)
    {
        string text = DecodeTokens(ids, skipSpecialTokens);
        return cleanUpTokenizationSpaces ? TokenizationSpaces.CleanUp(text) : text;
    }

    /// <summary>A stream that turns generated ids, fed one at a time, into text chunks whose concatenation is
    /// <see cref="Decode"/> of all of them (see <see cref="DecodeStream"/>).</summary>
    public DecodeStream CreateDecodeStream(bool skipSpecialTokens = true) => new(this, skipSpecialTokens, default);

    /// <summary>As <see cref="CreateDecodeStream(bool)"/>, decoding after <paramref name="context"/> (the prompt's
    /// last ids): the chunks then concatenate to Decode(context + generated) minus Decode(context), so the first
    /// generated token keeps the leading space a first token would lose.</summary>
    public DecodeStream CreateDecodeStream(ReadOnlySpan<int> context, bool skipSpecialTokens = true) =>
        new(this, skipSpecialTokens, context);

    private string DecodeTokens(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            var added = _added.ById(id);
            string? token = added?.Content ?? _model.IdToToken(id);
            if (token is null) continue;
            if (skipSpecialTokens && (added ?? _added.ByContent(token)) is { Special: true }) continue;
            tokens.Add(token);
        }
        return _decoder?.Decode(tokens) ?? string.Join(' ', tokens);
    }

    public int? TokenToId(string token) => _added.ByContent(token)?.Id ?? _model.TokenToId(token);

    public string? IdToToken(int id) => _added.ById(id)?.Content ?? _model.IdToToken(id);

    /// <summary>Size of the vocabulary including added tokens that the model does not have.</summary>
    public int VocabSize { get; }

    private List<TokenEntry> EncodeEntries(string a, string? b, bool addSpecialTokens) => EncodeEntries(a, b, addSpecialTokens, null);

    /// <summary>
    /// Tokens of the text(s), post-processed. The per-sequence lists are this thread's scratch (nothing keeps them
    /// past this call); the returned list is new unless <paramref name="intoScratch"/>, for a caller that copies it
    /// out before its next encode on this thread.
    /// </summary>
    private List<TokenEntry> EncodeEntries(string a, string? b, bool addSpecialTokens, List<List<TokenEntry>>? overflowing,
        bool intoScratch = false)
    {
        var scratch = Scratch.Get();
        var first = scratch.First;
        first.Clear();
        EncodeSequence(a, first);
        List<TokenEntry>? second = null;
        if (b != null)
        {
            second = scratch.Second;
            second.Clear();
            EncodeSequence(b, second);
        }
        if (Truncation is { } t)
        {
            int max = t.MaxLength;
            // Deliberate deviation: when max_length is below the special tokens' count the reference's unsigned
            // subtraction wraps (and truncation is skipped); we clamp to 0 and keep only the special tokens.
            if (addSpecialTokens) max = Math.Max(0, max - _postProcessor.AddedTokens(b != null));
            if (overflowing is null) t.Apply(first, second, max);
            else
            {
                List<List<TokenEntry>> overA = [], overB = [];
                t.Apply(first, second, max, overA, second != null ? overB : null);
                AddOverflowing(first, second, overA, overB, addSpecialTokens, overflowing);
            }
        }
        List<TokenEntry> output;
        if (intoScratch)
        {
            output = scratch.Output;
            output.Clear();
        }
        else output = new List<TokenEntry>(first.Count + (second?.Count ?? 0) + 4);
        _postProcessor.Process(first, second, addSpecialTokens, output);
        return output;
    }

    private static Encoding ToEncoding(List<TokenEntry> entries) => new(entries.ToArray());
}
