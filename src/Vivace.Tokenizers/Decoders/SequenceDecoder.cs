using System.Text.Json;

namespace Vivace.Tokenizers.Decoders;

/// <summary>"Sequence" decoder: each decoder's decode_chain feeds the next; the last one's output is joined.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<IDecoder> decoders) : IDecoder
{
    public IReadOnlyList<IDecoder> Decoders { get; } = decoders;

    public string Decode(IReadOnlyList<string> tokens) => string.Concat(DecodeChain(tokens));

    public IReadOnlyList<string> DecodeChain(IReadOnlyList<string> tokens)
    {
        foreach (var d in Decoders) tokens = d.DecodeChain(tokens);
        return tokens;
    }

    public static SequenceDecoder FromJson(JsonElement e)
    {
        var list = new List<IDecoder>();
        foreach (var item in e.GetProperty("decoders").EnumerateArray())
            if (DecoderFactory.FromJson(item) is { } d) list.Add(d);
        return new SequenceDecoder(list);
    }
}
