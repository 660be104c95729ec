using System.Diagnostics;
using System.Text;
using Vivace.Models.Decoders;
using Vivace.Tokenizers;

namespace Vivace.Engine.Generation;

/// <summary>
/// One request's generation as a state machine the caller drives: <see cref="NextPart"/> gives the tokens to run next
/// (the whole prompt first, then the last chosen token) against this sequence's own KV cache, and <see cref="Advance"/>
/// takes the logits that came back, chooses a token (sampler), detokenizes it incrementally, watches eos and stop
/// sequences, and returns the step. A lone request runs it one pass at a time; the scheduler runs many in one pass.
/// </summary>
internal sealed class GenerationSequence
{
    private readonly TextGenerator _generator;
    private readonly PreparedRequest _request;
    private readonly TokenSampler _sampler;
    private readonly TokenLogprob[] _top;
    private readonly int[] _history;
    private readonly DecodeStream _decode;
    private readonly StopSequenceMatcher _stops;
    private readonly StringBuilder _generated = new();
    private readonly List<GeneratedToken> _tokens = [];
    private readonly Stopwatch _clock = new();
    private int _length, _safeLength;
    private TimeSpan _prefillTime;

    public GenerationSequence(TextGenerator generator, PreparedRequest request)
    {
        _generator = generator;
        _request = request;
        _sampler = new TokenSampler(request.Sampling);
        _top = new TokenLogprob[Math.Max(request.Sampling.TopNTokens, 1)];
        _history = new int[request.PromptIds.Length + request.MaxNewTokens];
        request.PromptIds.CopyTo(_history, 0);
        _length = request.PromptIds.Length;
        // The decoder sees the prompt's last tokens first, so the first new token keeps the leading space it has after
        // the prompt (as TGI's prefix offsets do; decoding it alone would strip it as a sequence start).
        _decode = generator.Tokenizer.CreateDecodeStream(request.PromptIds, skipSpecialTokens: true);
        _stops = new StopSequenceMatcher(request.Stop);
        Cache = generator.Model.CreateCache(1, request.PromptIds.Length + request.MaxNewTokens);
    }

    public KvCache Cache { get; }
    public int PromptTokens => _request.PromptIds.Length;
    public bool Finished { get; private set; }
    /// <summary>Tokens the next pass runs for this sequence: the prompt before the first step, then one.</summary>
    public int NextTokens => Cache.Length == 0 ? PromptTokens : 1;

    /// <summary>This sequence's share of the next forward pass.</summary>
    public CachePart NextPart()
    {
        if (Finished) throw new InvalidOperationException("the sequence is finished");
        if (Cache.Length == 0)
        {
            _clock.Start();
            return CachePart.Unpadded(Cache, Array.ConvertAll(_request.PromptIds, x => (long)x));
        }
        return CachePart.Unpadded(Cache, [_history[_length - 1]]);
    }

    /// <summary>Chooses the next token from this sequence's logits row (modified in place) and returns the step.</summary>
    public GenerationStep Advance(Span<float> logits)
    {
        if (Finished) throw new InvalidOperationException("the sequence is finished");
        PreparedRequest p = _request;
        int n = _tokens.Count;
        if (n == 0) _prefillTime = _clock.Elapsed;
        TokenLogprob chosen = _sampler.Next(logits, _history.AsSpan(0, _length), p.PromptIds.Length, _top, out int topCount);
        int id = chosen.Id;
        _history[_length++] = id;
        bool special = _generator.IsSpecial(id);
        string text = _decode.Step(id) ?? "";
        bool eos = !p.IgnoreEos && _generator.IsEos(id);
        bool last = eos || n == p.MaxNewTokens - 1;
        if (last) text += _decode.Flush();
        _generated.Append(text);

        StopSequenceResult match = _stops.Push(text);
        string safe = match.Text;
        _safeLength += safe.Length;
        FinishReason? finish = match.Stopped ? FinishReason.StopSequence
            : eos ? FinishReason.EosToken
            : n == p.MaxNewTokens - 1 ? FinishReason.Length
            : null;
        if (finish is not null and not FinishReason.StopSequence) safe += _stops.Flush();

        int topN = p.Sampling.TopNTokens;
        var alternatives = new TokenAlternative[topN == 0 ? 0 : topCount];
        for (int i = 0; i < alternatives.Length; i++)
            alternatives[i] = new TokenAlternative(_top[i].Id, _generator.TokenText(_top[i].Id), _top[i].Logprob, _generator.IsSpecial(_top[i].Id));
        // A special token's text is its content (TGI shows "</s>"), though generated_text skips it.
        var token = new GeneratedToken(id, special ? _generator.TokenText(id) : text, chosen.Logprob, special, alternatives);
        _tokens.Add(token);

        GenerationResult? final = null;
        if (finish is FinishReason reason)
        {
            Finished = true;
            // TGI keeps the stop sequence in generated_text; the rest of the token that completed it is dropped.
            string all = _generated.ToString();
            if (match.Stopped) all = all[..(_safeLength + match.StopSequence!.Length)];
            final = new GenerationResult
            {
                PromptText = p.PromptText,
                PromptIds = p.PromptIds,
                GeneratedText = all,
                FinishReason = reason,
                Tokens = _tokens,
                StopSequence = match.StopSequence,
                StopIndex = match.Stopped ? _safeLength : null,
                Seed = p.Sampling.IsGreedy ? null : _sampler.Seed,
                PromptTruncated = p.Truncated,
                PrefillTime = _prefillTime,
                DecodeTime = _clock.Elapsed - _prefillTime,
            };
        }
        return new GenerationStep(n, token, safe, final);
    }
}

/// <summary>A request after validation: its prompt ids (truncated if asked), length and sampling.</summary>
internal sealed record PreparedRequest(int[] PromptIds, string PromptText, int MaxNewTokens, SamplingParameters Sampling,
    IReadOnlyList<string> Stop, bool Truncated, bool IgnoreEos);
