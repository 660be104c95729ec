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

        [ThreadStatic] private static Scratch? t_instance;

        public static Scratch Get() => t_instance ??= new Scratch();
    }

    private void EncodeSequence(string text, List<TokenEntry> output)
    {
        var scratch = Scratch.Get();
        var matches = scratch.RawMatches;
        matches.Clear();
        if (!_added.Raw.IsEmpty) _added.Raw.FindAll(text, matches);

        int pos = 0;
        foreach (var m in matches)
        {
            if (m.Start > pos) EncodePlain(text, pos, m.Start, scratch, output);
            output.Add(new TokenEntry(m.Token.Id, m.Token.Content, m.Start, m.End, 0, false));
            pos = m.End;
        }
        if (pos < text.Length) EncodePlain(text, pos, text.Length, scratch, output);
    }

    /// <summary>Text without raw added tokens: normalize, then split out normalized added tokens, then words.</summary>
    private void EncodePlain(string text, int start, int end, Scratch scratch, List<TokenEntry> output)
    {
        var ns = scratch.Normalized;
        ns.Reset(text, start, end);
        _normalizer?.Normalize(ns);

        if (_added.Normalized.IsEmpty)
        {
            EncodeWords(ns, 0, ns.Length, scratch, output);
            return;
        }
        var matches = scratch.NormalizedMatches;
        matches.Clear();
        _added.Normalized.FindAll(ns.Normalized, matches);
        int pos = 0;
        foreach (var m in matches)
        {
            if (m.Start > pos) EncodeWords(ns, pos, m.Start, scratch, output);
            var (os, oe) = ns.OriginalRange(m.Start, m.End);
            output.Add(new TokenEntry(m.Token.Id, m.Token.Content, os, oe, 0, false));
            pos = m.End;
        }
        if (pos < ns.Length) EncodeWords(ns, pos, ns.Length, scratch, output);
    }

    private void EncodeWords(NormalizedString ns, int start, int end, Scratch scratch, List<TokenEntry> output)
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
        var text = ns.Normalized;

        var tokens = scratch.ModelTokens;
        foreach (var piece in pieces)
        {
            if (_byteLevel)
            {
                EncodeByteLevelPiece(ns, piece, tokens, output);
                continue;
            }
            tokens.Clear();
            _model.Tokenize(text[piece.Start..piece.End], tokens);
            foreach (var t in tokens)
            {
                var (os, oe) = ns.OriginalRange(piece.Start + t.Start, piece.Start + t.End);
                output.Add(new TokenEntry(t.Id, _model.IdToToken(t.Id) ?? "", os, oe, 0, false));
            }
        }
    }
}
