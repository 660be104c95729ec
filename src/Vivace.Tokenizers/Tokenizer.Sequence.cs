using Vivace.Tokenizers.AddedTokens;
using Vivace.Tokenizers.Models;
using Vivace.Tokenizers.PreTokenizers;

namespace Vivace.Tokenizers;

/// <summary>Encoding of one sequence: added tokens, normalization, pre-tokenization and the model.</summary>
public sealed partial class Tokenizer
{
    /// <summary>Per-thread buffers, so encoding allocates little beyond its result.</summary>
    private sealed class Scratch
    {
        public readonly NormalizedString Normalized = new();
        public readonly NormalizedString PreTokenized = new();
        public readonly List<AddedMatch> RawMatches = [];
        public readonly List<AddedMatch> NormalizedMatches = [];
        public readonly List<Piece> Pieces = [];
        public readonly List<ModelToken> ModelTokens = [];
        /// <summary>The sequences of the encode in progress, and its post-processed tokens (see EncodeEntries).</summary>
        public readonly List<TokenEntry> First = [], Second = [], Output = [];
        /// <summary>The sequence of an ids-only encode.</summary>
        public readonly List<int> Ids = [];

        [ThreadStatic] private static Scratch? t_instance;

        public static Scratch Get() => t_instance ??= new Scratch();
    }

    /// <summary>Where one sequence's tokens go: entries with offsets and token strings, or ids alone. A struct
    /// type argument, so each pipeline is compiled for its sink and the ids path skips offset work entirely.</summary>
    private interface ITokenSink
    {
        static abstract bool WantsOffsets { get; }

        /// <summary>A token of the model or an added token, with original offsets (only when <see cref="WantsOffsets"/>).</summary>
        void Add(in TokenEntry entry);

        void Add(int id);

        void AddIds(ReadOnlySpan<int> ids);
    }

    private readonly struct EntrySink(List<TokenEntry> entries) : ITokenSink
    {
        public static bool WantsOffsets => true;
        public void Add(in TokenEntry entry) => entries.Add(entry);
        public void Add(int id) => throw new InvalidOperationException("An entry sink takes entries.");
        public void AddIds(ReadOnlySpan<int> ids) => throw new InvalidOperationException("An entry sink takes entries.");
    }

    private readonly struct IdSink(List<int> ids) : ITokenSink
    {
        public static bool WantsOffsets => false;
        public void Add(in TokenEntry entry) => ids.Add(entry.Id);
        public void Add(int id) => ids.Add(id);
        public void AddIds(ReadOnlySpan<int> span) => ids.AddRange(span);
    }

    private void EncodeSequence(string text, List<TokenEntry> output) => EncodeSequence(text, new EntrySink(output));

    private void EncodeSequence<TSink>(string text, TSink sink) where TSink : struct, ITokenSink
    {
        var scratch = Scratch.Get();
        var matches = scratch.RawMatches;
        matches.Clear();
        if (!_added.Raw.IsEmpty) _added.Raw.FindAll(text, matches);

        int pos = 0;
        foreach (var m in matches)
        {
            if (m.Start > pos) EncodePlain(text, pos, m.Start, scratch, sink);
            AddAdded(sink, m.Token, m.Start, m.End);
            pos = m.End;
        }
        if (pos < text.Length) EncodePlain(text, pos, text.Length, scratch, sink);
    }

    private static void AddAdded<TSink>(TSink sink, AddedToken token, int start, int end) where TSink : struct, ITokenSink
    {
        if (TSink.WantsOffsets) sink.Add(new TokenEntry(token.Id, token.Content, start, end, 0, false));
        else sink.Add(token.Id);
    }

    /// <summary>Text without raw added tokens: normalize, then split out normalized added tokens, then words.</summary>
    private void EncodePlain<TSink>(string text, int start, int end, Scratch scratch, TSink sink) where TSink : struct, ITokenSink
    {
        var ns = scratch.Normalized;
        ns.TrackAlignment = TSink.WantsOffsets || _alignmentNeeded;
        ns.Reset(text, start, end);
        _normalizer?.Normalize(ns);

        if (_added.Normalized.IsEmpty)
        {
            EncodeWords(ns, 0, ns.Length, scratch, sink);
            return;
        }
        var matches = scratch.NormalizedMatches;
        matches.Clear();
        _added.Normalized.FindAll(ns.Normalized, matches);
        int pos = 0;
        foreach (var m in matches)
        {
            if (m.Start > pos) EncodeWords(ns, pos, m.Start, scratch, sink);
            if (TSink.WantsOffsets)
            {
                var (os, oe) = ns.OriginalRange(m.Start, m.End);
                AddAdded(sink, m.Token, os, oe);
            }
            else sink.Add(m.Token.Id);
            pos = m.End;
        }
        if (pos < ns.Length) EncodeWords(ns, pos, ns.Length, scratch, sink);
    }

    private void EncodeWords<TSink>(NormalizedString ns, int start, int end, Scratch scratch, TSink sink) where TSink : struct, ITokenSink
    {
        var pieces = scratch.Pieces;
        pieces.Clear();
        if (_preTokenizer is IRewritingPreTokenizer rewriting)
        {
            // It rewrites text: give it a copy of this range so the caller's positions in ns stay valid.
            var copy = scratch.PreTokenized;
            copy.ResetFrom(ns, start, end);
            pieces.Add(new Piece(0, end - start));
            rewriting.Rewrite(copy, pieces);
            ns = copy;
        }
        else if (_preTokenizer != null) _preTokenizer.Split(ns.Normalized, new Piece(start, end), pieces);
        else if (end > start) pieces.Add(new Piece(start, end));

        var tokens = scratch.ModelTokens;
        foreach (var piece in pieces)
        {
            if (!TSink.WantsOffsets) EncodePieceIds(ns.Normalized, piece, tokens, sink);
            else if (_byteLevel) EncodeByteLevelPiece(ns, piece, tokens, sink);
            else
            {
                tokens.Clear();
                _model.Tokenize(ns.Normalized[piece.Start..piece.End], tokens);
                foreach (var t in tokens)
                {
                    var (os, oe) = ns.OriginalRange(piece.Start + t.Start, piece.Start + t.End);
                    sink.Add(new TokenEntry(t.Id, _model.IdToToken(t.Id) ?? "", os, oe, 0, false));
                }
            }
        }
    }
}
