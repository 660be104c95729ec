using Vivace.Tokenizers.PreTokenizers;

namespace Vivace.Tokenizers.Processors;

/// <summary>"ByteLevel" post-processor: with trim_offsets, offsets leave out the spaces (Ġ) a token starts or
/// ends with, except the single space that add_prefix_space put before the first token.</summary>
internal sealed class ByteLevelProcessing(bool trimOffsets, bool addPrefixSpace) : IPostProcessor
{
    public int AddedTokens(bool isPair) => 0;

    public void Process(List<TokenEntry> a, List<TokenEntry>? b, bool addSpecialTokens, List<TokenEntry> output)
    {
        TrimOffsets(a, b);
        ConcatenateProcessor.Instance.Process(a, b, addSpecialTokens, output);
    }

    public void TrimOffsets(List<TokenEntry> a, List<TokenEntry>? b)
    {
        if (!trimOffsets) return;
        Trim(a, addPrefixSpace);
        if (b != null) Trim(b, addPrefixSpace);
    }

    internal static void Trim(List<TokenEntry> tokens, bool addPrefixSpace)
    {
        char space = ByteLevelTable.ByteToChar[' '];
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            string s = t.Token;
            int lead = 0, trail = 0;
            while (lead < s.Length && (s[lead] == space || char.IsWhiteSpace(s[lead]))) lead++;
            while (trail < s.Length && (s[s.Length - 1 - trail] == space || char.IsWhiteSpace(s[s.Length - 1 - trail]))) trail++;
            if (lead == 0 && trail == 0) continue;
            int start = t.Start, end = t.End;
            if (lead > 0)
            {
                bool first = i == 0 || start == 0;
                if (first && addPrefixSpace && lead == 1) lead = 0;
                start = Math.Min(start + lead, end);
            }
            if (trail > 0 && end >= trail) end = Math.Max(end - trail, start);
            tokens[i] = t with { Start = start, End = end };
        }
    }
}

/// <summary>"RobertaProcessing": &lt;s&gt; A &lt;/s&gt; and &lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;, offsets trimmed as ByteLevel does.</summary>
internal sealed class RobertaProcessing(string sepToken, int sepId, string clsToken, int clsId, bool trimOffsets, bool addPrefixSpace)
    : IPostProcessor
{
    public int AddedTokens(bool isPair) => isPair ? 4 : 2;

    public void Process(List<TokenEntry> a, List<TokenEntry>? b, bool addSpecialTokens, List<TokenEntry> output)
    {
        if (trimOffsets)
        {
            ByteLevelProcessing.Trim(a, addPrefixSpace);
            if (b != null) ByteLevelProcessing.Trim(b, addPrefixSpace);
        }
        if (!addSpecialTokens)
        {
            ConcatenateProcessor.Instance.Process(a, b, false, output);
            return;
        }
        output.Add(new TokenEntry(clsId, clsToken, 0, 0, 0, true));
        foreach (var t in a) output.Add(t with { TypeId = 0 });
        output.Add(new TokenEntry(sepId, sepToken, 0, 0, 0, true));
        if (b == null) return;
        output.Add(new TokenEntry(sepId, sepToken, 0, 0, 1, true));
        foreach (var t in b) output.Add(t with { TypeId = 1 });
        output.Add(new TokenEntry(sepId, sepToken, 0, 0, 1, true));
    }
}

/// <summary>"Sequence" post-processor: offset-only processors (ByteLevel) run on each sequence, then the
/// processors that add special tokens, in order (the reference runs each over the encodings in turn).</summary>
internal sealed class SequenceProcessing(IReadOnlyList<IPostProcessor> processors) : IPostProcessor
{
    public int AddedTokens(bool isPair) => processors.Sum(p => p.AddedTokens(isPair));

    public void Process(List<TokenEntry> a, List<TokenEntry>? b, bool addSpecialTokens, List<TokenEntry> output)
    {
        IPostProcessor? combine = null;
        foreach (var p in processors)
        {
            if (p is ByteLevelProcessing bl) bl.TrimOffsets(a, b);
            else combine = p; // a second special-token processor would see merged sequences in the reference
        }
        (combine ?? ConcatenateProcessor.Instance).Process(a, b, addSpecialTokens, output);
    }
}
