namespace Vivace.Tokenizers.AddedTokens;

/// <summary>An entry of tokenizer.json's "added_tokens": matched as a whole in the text before the model runs.</summary>
public sealed record AddedToken(
    int Id,
    string Content,
    bool Special = true,
    bool SingleWord = false,
    bool LStrip = false,
    bool RStrip = false,
    bool Normalized = false);
