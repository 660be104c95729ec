namespace Vivace.Tokenizers.Processors;

/// <summary>"BertProcessing": [CLS] A [SEP] and [CLS] A [SEP] B [SEP], with type id 1 for B and its [SEP].</summary>
internal sealed class BertProcessing(string sepToken, int sepId, string clsToken, int clsId) : IPostProcessor
{
    public int AddedTokens(bool isPair) => isPair ? 3 : 2;

    public void Process(List<TokenEntry> a, List<TokenEntry>? b, bool addSpecialTokens, List<TokenEntry> output)
    {
        if (!addSpecialTokens)
        {
            ConcatenateProcessor.Instance.Process(a, b, false, output);
            return;
        }
        output.Add(new TokenEntry(clsId, clsToken, 0, 0, 0, true));
        foreach (var t in a) output.Add(t with { TypeId = 0 });
        output.Add(new TokenEntry(sepId, sepToken, 0, 0, 0, true));
        if (b == null) return;
        foreach (var t in b) output.Add(t with { TypeId = 1 });
        output.Add(new TokenEntry(sepId, sepToken, 0, 0, 1, true));
    }
}
