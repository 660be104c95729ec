using System.Runtime.InteropServices;

namespace Vivace.Tokenizers;

/// <summary>
/// Incremental detokenization for streaming generation, as Hugging Face tokenizers' <c>DecodeStream</c>
/// (tokenizers/src/tokenizer/mod.rs, <c>step_decode_stream</c>): feed generated ids one at a time with
/// <see cref="Step"/> and get back only the text that is new and complete.
/// <para>
/// Why a window and not the token alone: decoders are not token-by-token functions. Byte-level BPE and
/// SentencePiece byte fallback spread one character over several tokens; Metaspace and Strip drop the
/// leading space of the first token only; WordPiece joins "##" pieces to the previous token. So each step
/// decodes a short window of ids (the group of ids that produced the last emitted text, plus the ids not yet
/// emitted) and emits what that decode adds beyond the decode of the group alone ("prefix"). Both decodes
/// start at the same id, so any first-token rule (stripped leading space) applies to both and cancels out,
/// while the very first group is decoded from the stream's start exactly as a full decode would.
/// </para>
/// <para>
/// Nothing is emitted while the window's text ends with U+FFFD: the pending bytes may still become a
/// character (the three byte tokens of "€" give null, null, "€"). A character is emitted as soon as it
/// completes, so a chunk never holds half a UTF-8 sequence or a lone surrogate. Text that really ends with
/// U+FFFD (invalid bytes, or the character itself) is held until the next token or <see cref="Flush"/>.
/// </para>
/// <para>
/// The concatenation of all chunks plus <see cref="Flush"/> equals <c>tokenizer.Decode(allIds)</c> with the same
/// skipSpecialTokens. One exception, for invalid output only: a SentencePiece byte-fallback run that is valid
/// UTF-8 for some characters (already emitted) and then gets an invalid byte; the full decode renders the whole
/// run as U+FFFD, the stream keeps the characters it emitted (see the note in Emit). There is no Python-level
/// cleanUpTokenizationSpaces, as in the reference: that cleanup rewrites text across token boundaries after it
/// was emitted.
/// </para>
/// <para>
/// Cost: one decode of the window per step, one more when it emits. The window is the last emitted group plus pending ids, so
/// it stays a few ids long; it only grows while nothing can be emitted (a run of invalid bytes, skipped
/// special tokens).
/// </para>
/// Not thread-safe: one stream per generated sequence.
/// </summary>
public sealed class DecodeStream
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;

    // The window: ids of the last emitted group followed by ids whose text is still pending.
    private readonly List<int> _ids = [];

    // Decode of the first _prefixCount ids of the window (the last emitted group), the text already emitted.
    private string _prefix = "";
    private int _prefixCount;

    internal DecodeStream(Tokenizer tokenizer, bool skipSpecialTokens, ReadOnlySpan<int> context)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
        if (context.IsEmpty) return;
        // Prompt ids as context (the reference's prefill): only their last few matter to a decoder, and the
        // first generated token then decodes as it would after the prompt (its leading space kept).
        _ids.AddRange(context[Math.Max(0, context.Length - ContextIds)..]);
        string text = Decode();
        if (text.EndsWith('\uFFFD'))
        {
            // The prompt ends inside a character: its text is not a stable prefix, so start without context.
            _ids.Clear();
            return;
        }
        _prefix = text;
        _prefixCount = _ids.Count;
    }

    /// <summary>Prompt ids kept as context: enough for any decoder's look-back (a character is at most 4 byte
    /// tokens) while keeping each step's decode short.</summary>
    private const int ContextIds = 8;

    /// <summary>The skipSpecialTokens this stream decodes with.</summary>
    public bool SkipSpecialTokens => _skipSpecialTokens;

    /// <summary>Adds one generated id; returns the text it completes, or null when nothing is complete yet
    /// (bytes of an unfinished character, a skipped special token, a token that decodes to nothing).</summary>
    public string? Step(int id)
    {
        _ids.Add(id);
        string text = Decode();
        if (text.Length <= _prefix.Length || text.EndsWith('\uFFFD')) return null;
        return Emit(text);
    }

    /// <summary>Text still pending at the end of generation (e.g. trailing invalid bytes as U+FFFD, exactly as
    /// a full decode renders them); "" when there is none. The stream may go on afterwards.</summary>
    public string Flush()
    {
        if (_ids.Count == _prefixCount) return "";
        string text = Decode();
        if (text.Length <= _prefix.Length) return "";
        return Emit(text);
    }

    private string Emit(string text)
    {
        string chunk;
        if (text.StartsWith(_prefix, StringComparison.Ordinal))
            chunk = text[_prefix.Length..];
        else
        {
            // Only a SentencePiece byte-fallback run does this: the ByteFallback decoder renders a run of byte
            // tokens as its UTF-8 text when the whole run is valid, else as one U+FFFD per byte. A run whose
            // characters were valid so far (and so already emitted, as promptly as the reference's stream does)
            // and then gets an invalid byte turns, in a full decode, entirely into U+FFFD. Emitted text cannot
            // be taken back (the reference raises InvalidPrefix here); the stream goes on with the pending ids
            // decoded on their own, i.e. U+FFFD for each byte not yet emitted. That is the one case where the
            // chunks differ from Decode(allIds): the run's leading valid characters stay as characters.
            _ids.RemoveRange(0, _prefixCount);
            _prefixCount = 0;
            _prefix = "";
            chunk = Decode();
        }
        // The ids after the old prefix produced this chunk; they become the new prefix, the look-back context
        // of the next step (the old prefix is no longer needed: the new group starts at a character boundary).
        int groupCount = _ids.Count - _prefixCount;
        _ids.RemoveRange(0, _prefixCount);
        _prefixCount = groupCount;
        _prefix = Decode();
        return chunk;
    }

    private string Decode() => _tokenizer.Decode(CollectionsMarshal.AsSpan(_ids), _skipSpecialTokens);
}
