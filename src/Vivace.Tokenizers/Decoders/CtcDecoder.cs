using System.Text.Json;

namespace Vivace.Tokenizers.Decoders;

/// <summary>"CTC" decoder: repeated tokens collapse to one, the pad token is removed, and with cleanup the
/// WordPiece cleanup is applied and the word delimiter becomes a space; empty results are dropped.</summary>
internal sealed class CtcDecoder(string padToken = "<pad>", string wordDelimiterToken = "|", bool cleanup = true) : IDecoder
{
    public string Decode(IReadOnlyList<string> tokens) => string.Concat(DecodeChain(tokens));

    public IReadOnlyList<string> DecodeChain(IReadOnlyList<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            if (i > 0 && tokens[i] == tokens[i - 1]) continue;
            string t = padToken.Length > 0 ? tokens[i].Replace(padToken, "", StringComparison.Ordinal) : tokens[i];
            if (cleanup)
            {
                t = WordPieceDecoder.Cleanup(t);
                if (wordDelimiterToken.Length > 0) t = t.Replace(wordDelimiterToken, " ", StringComparison.Ordinal);
            }
            if (t.Length > 0) result.Add(t);
        }
        return result;
    }

    public static CtcDecoder FromJson(JsonElement e) => new(
        JsonRead.String(e, "pad_token") ?? "<pad>",
        JsonRead.String(e, "word_delimiter_token") ?? "|",
        JsonRead.Bool(e, "cleanup", true));
}
