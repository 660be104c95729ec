using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.PreTokenizers;

namespace Vivace.Tokenizers;

/// <summary>
/// The ids-only encode: the same ids as <see cref="Encode"/> without offsets, token strings, type ids or masks,
/// for callers that feed a model. It skips alignment bookkeeping, answers repeated words from a word → ids
/// cache, and adds the post-processor's special tokens from a layout worked out once at construction.
/// </summary>
public sealed partial class Tokenizer
{
    /// <summary>Word → ids for models whose per-word work is worth remembering (BPE merging, Unigram's Viterbi);
    /// WordPiece's whole-word hit is already one lookup (and it caches its split words itself).</summary>
    private readonly WordIdCache? _wordIds;

    /// <summary>The model when it is WordPiece, for the whole-word shortcut.</summary>
    private readonly WordPiece? _wordPiece;

    /// <summary>Whether a component reads alignments even when no offsets are asked for (Metaspace's
    /// prepend_scheme "first" asks whether a piece starts the input).</summary>
    private readonly bool _alignmentNeeded;

    /// <summary>Special-token ids the post-processor puts before and after a single sequence, with and without
    /// add_special_tokens; null when its output is not "ids, sequence, ids" (then the full path runs).</summary>
    private readonly (int[] Before, int[] After)? _singleWithSpecial, _singlePlain;

    /// <summary>Encodes one text to ids, with the file's truncation and padding: equal to
    /// <c>Encode(text, addSpecialTokens).Ids</c>, at a fraction of the cost.</summary>
    public int[] EncodeToIds(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        if ((addSpecialTokens ? _singleWithSpecial : _singlePlain) is not var (before, after))
            return Encode(text, addSpecialTokens).Ids;

        var ids = Scratch.Get().Ids;
        ids.Clear();
        EncodeSequence(text, new IdSink(ids));
        if (Truncation is { } t && ids.Count > Math.Max(0, t.MaxLength - (addSpecialTokens ? _postProcessor.AddedTokens(false) : 0)))
            return Encode(text, addSpecialTokens).Ids; // cut as the full path cuts (windows, stride checks, errors)

        int length = before.Length + ids.Count + after.Length;
        int padded = Padding?.TargetLength(length) ?? length;
        if (padded < length) padded = length;
        var result = new int[padded];
        int at = Padding is { Direction: PaddingDirection.Left } ? padded - length : 0;
        if (padded > length) result.AsSpan().Fill(Padding!.PadId);
        before.CopyTo(result, at);
        ids.CopyTo(result, at + before.Length);
        after.CopyTo(result, at + before.Length + ids.Count);
        return result;
    }

    private static WordIdCache? WordIdCacheFor(IModel model) => model is Bpe or Unigram ? new WordIdCache() : null;

    private static bool NeedsAlignment(IPreTokenizer? p) => p switch
    {
        MetaspacePreTokenizer m => m.PrependScheme == PrependScheme.First,
        SequencePreTokenizer s => s.PreTokenizers.Any(NeedsAlignment),
        RewritingSequencePreTokenizer r => r.PreTokenizers.Any(NeedsAlignment),
        _ => false,
    };

    /// <summary>Runs the post-processor on a one-token stand-in sequence and reads off what it adds around it.</summary>
    private (int[] Before, int[] After)? SingleLayout(bool addSpecialTokens)
    {
        const int StandIn = int.MinValue;
        var output = new List<TokenEntry>();
        _postProcessor.Process([new TokenEntry(StandIn, "", 0, 0, 0, false)], null, addSpecialTokens, output);
        int at = output.FindIndex(e => e.Id == StandIn);
        if (at < 0 || output.FindLastIndex(e => e.Id == StandIn) != at) return null;
        return (output.Take(at).Select(e => e.Id).ToArray(), output.Skip(at + 1).Select(e => e.Id).ToArray());
    }
}
