namespace Vivace.Tokenizers.Models;

/// <summary>
/// SentencePiece BPE as llama.cpp runs it for "llama" GGUF vocabularies: start from code points, repeatedly
/// merge the adjacent pair whose concatenation is a vocabulary piece with the highest score (ties: leftmost),
/// then emit each piece, or its UTF-8 bytes as &lt;0xXX&gt; pieces (byte fallback), or the unknown token.
/// </summary>
internal sealed class SentencePieceBpe : IModel
{
    private readonly Vocabulary _vocab;
    private readonly float[] _scores;
    private readonly int[] _byteIds = new int[256];

    public SentencePieceBpe(Vocabulary vocab, float[] scores, int unkId)
    {
        _vocab = vocab;
        _scores = scores;
        UnkId = unkId;
        for (int b = 0; b < 256; b++) _byteIds[b] = vocab.TryGetId($"<0x{b:X2}>", out int id) ? id : -1;
    }

    public int UnkId { get; }
    public int VocabSize => _vocab.Count;

    public int? TokenToId(ReadOnlySpan<char> token) => _vocab.TryGetId(token, out int id) ? id : null;

    public string? IdToToken(int id) => _vocab.GetToken(id);

    private struct Symbol
    {
        public int Start, End, Prev, Next;
    }

    [ThreadStatic] private static Symbol[]? t_symbols;
    [ThreadStatic] private static PriorityQueue<(int Left, int Right, int Size), (float NegScore, int Left)>? t_queue;

    public void Tokenize(ReadOnlySpan<char> word, List<ModelToken> output)
    {
        if (word.IsEmpty) return;
        var symbols = t_symbols is { } s0 && s0.Length >= word.Length ? s0 : t_symbols = new Symbol[Math.Max(word.Length, 64)];
        int n = 0;
        for (int i = 0; i < word.Length;)
        {
            int w = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            symbols[n] = new Symbol { Start = i, End = i + w, Prev = n - 1, Next = n + 1 };
            n++;
            i += w;
        }
        symbols[n - 1].Next = -1;

        var queue = t_queue ??= new();
        queue.Clear();
        for (int i = 1; i < n; i++) TryAdd(word, symbols, queue, i - 1, i);
        while (queue.TryDequeue(out var bigram, out _))
        {
            ref var left = ref symbols[bigram.Left];
            ref var right = ref symbols[bigram.Right];
            if (left.End == left.Start || right.End == right.Start || right.End - left.Start != bigram.Size || left.Next != bigram.Right) continue;
            left.End = right.End;
            right.End = right.Start; // emptied
            left.Next = right.Next;
            if (right.Next >= 0) symbols[right.Next].Prev = bigram.Left;
            if (left.Prev >= 0) TryAdd(word, symbols, queue, left.Prev, bigram.Left);
            if (left.Next >= 0) TryAdd(word, symbols, queue, bigram.Left, left.Next);
        }

        Span<byte> bytes = stackalloc byte[8];
        for (int i = 0; i >= 0 && i < n; i = symbols[i].Next)
        {
            var sym = symbols[i];
            var text = word[sym.Start..sym.End];
            if (_vocab.TryGetId(text, out int id))
            {
                output.Add(new ModelToken(id, sym.Start, sym.End));
                continue;
            }
            // Unmerged single code point not in the vocabulary: its bytes, else unknown.
            int count = System.Text.Encoding.UTF8.GetBytes(text, bytes);
            bool all = true;
            for (int k = 0; k < count; k++) all &= _byteIds[bytes[k]] >= 0;
            if (all) for (int k = 0; k < count; k++) output.Add(new ModelToken(_byteIds[bytes[k]], sym.Start, sym.End));
            else output.Add(new ModelToken(UnkId, sym.Start, sym.End));
        }
    }

    private void TryAdd(ReadOnlySpan<char> word, Symbol[] symbols, PriorityQueue<(int, int, int), (float, int)> queue, int left, int right)
    {
        int start = symbols[left].Start, end = symbols[right].End;
        if (!_vocab.TryGetId(word[start..end], out int id) || id >= _scores.Length) return;
        queue.Enqueue((left, right, end - start), (-_scores[id], left));
    }
}
