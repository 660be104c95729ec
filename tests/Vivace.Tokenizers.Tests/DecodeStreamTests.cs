using System.Text;
using System.Text.Json;
using Vivace.Tests;
using Xunit.Abstractions;

namespace Vivace.Tokenizers.Tests;

/// <summary>
/// <see cref="DecodeStream"/> against the full decode: generation is simulated by encoding real multilingual
/// lines (and random id sequences, which give invalid bytes) and stepping the ids one at a time.
/// </summary>
public class DecodeStreamTests(ITestOutputHelper output)
{
    private const string BertUncased = "FastBertTokenizer/bert-base-uncased/tokenizer.json";
    private const string BertCased = "FastBertTokenizer/bert-base-multilingual-cased/tokenizer.json";
    private const string T5 = "ort-extensions/t5-small/tokenizer.json";

    private static Tokenizer Load(string file) => BpeTestFiles.Load(file);

    /// <summary>The 83 multilingual conformance inputs, the corpus's hard cases and a spread of its lines.</summary>
    private static List<string> Lines()
    {
        var lines = new List<string>();
        using (var doc = JsonDocument.Parse(File.ReadAllText(Oracle.Path("swift-transformers/multilingual-conformance/inputs.json"))))
            foreach (var e in doc.RootElement.EnumerateArray()) lines.Add(e.GetProperty("text").GetString()!);
        lines.AddRange(Corpus.HardCases);
        var all = Corpus.Lines;
        int step = Math.Max(1, all.Count / 600);
        for (int i = 0; i < all.Count; i += step) lines.Add(all[i]);
        return lines;
    }

    /// <summary>Steps every id and checks the stream's contract; returns the chunks.
    /// <paramref name="exact"/> false: a byte-fallback run of the ids goes invalid after valid characters, the one
    /// case where the stream keeps those characters and the full decode does not (see DecodeStream.Emit).</summary>
    private static List<string?> StreamAndCheck(Tokenizer tok, int[] ids, bool skipSpecialTokens, bool exact = true)
    {
        var stream = tok.CreateDecodeStream(skipSpecialTokens);
        var chunks = new List<string?>();
        var emitted = new StringBuilder();
        for (int i = 0; i < ids.Length; i++)
        {
            string? chunk = stream.Step(ids[i]);
            chunks.Add(chunk);
            if (chunk != null)
            {
                Assert.NotEqual("", chunk);
                AssertNoLoneSurrogate(chunk);
                emitted.Append(chunk);
            }
            if (!exact) continue;
            // Promptness: once the ids so far decode to complete text, all of it has been emitted. (While bytes
            // are pending there is nothing to compare: byte fallback renders a whole unfinished run as U+FFFD.)
            string soFar = tok.Decode(ids.AsSpan(0, i + 1), skipSpecialTokens);
            if (!soFar.EndsWith('\uFFFD')) Assert.Equal(soFar, emitted.ToString());
        }
        string rest = stream.Flush();
        AssertNoLoneSurrogate(rest);
        emitted.Append(rest);
        string full = tok.Decode(ids, skipSpecialTokens);
        if (exact) Assert.Equal(full, emitted.ToString());
        else
        {
            // The full decode turned some emitted characters into U+FFFD; everything else is the same text.
            Assert.True(IsSubsequence(full.Replace("\uFFFD", ""), emitted.ToString().Replace("\uFFFD", "")),
                $"full {full} / streamed {emitted}");
        }
        return chunks;
    }

    private static void AssertNoLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            Assert.False(char.IsSurrogate(s[i]), $"lone surrogate U+{(int)s[i]:X4} at {i} in chunk");
        }
    }

    [SkippableTheory]
    [InlineData(BpeTestFiles.Gpt2)]
    [InlineData(BpeTestFiles.TinyGpt2)]
    [InlineData(BpeTestFiles.Llama2)]
    [InlineData(BpeTestFiles.Phi3)]
    [InlineData(BpeTestFiles.Roberta)]
    [InlineData(BpeTestFiles.Falcon)]
    [InlineData(BpeTestFiles.Llama3Tiktoken)]
    [InlineData(BpeTestFiles.Cl100kTiktoken)]
    [InlineData(BertUncased)]
    [InlineData(BertCased)]
    [InlineData(T5)]
    public void Chunks_concatenate_to_the_full_decode_of_corpus_lines(string file)
    {
        var tok = Load(file);
        var lines = Lines();
        int emittedChunks = 0, pendingSteps = 0;
        foreach (string line in lines)
        {
            var ids = tok.Encode(line).Ids;
            foreach (bool skip in new[] { true, false })
            {
                var chunks = StreamAndCheck(tok, ids, skip);
                emittedChunks += chunks.Count(c => c != null);
                pendingSteps += chunks.Count(c => c == null);
            }
        }
        output.WriteLine($"{file}: {lines.Count} lines, {emittedChunks} chunks, {pendingSteps} steps with nothing to emit");
    }

    [SkippableTheory]
    [InlineData(BpeTestFiles.Gpt2)]
    [InlineData(BpeTestFiles.Llama2)]
    [InlineData(BpeTestFiles.Phi3)]
    [InlineData(BertUncased)]
    [InlineData(T5)]
    public void Random_ids_with_invalid_bytes_concatenate_to_the_full_decode(string file)
    {
        // Random ids are what a badly sampled model may produce: stray continuation bytes, characters cut off,
        // special tokens mid-text. The stream must still reproduce the full decode, U+FFFD included.
        var tok = Load(file);
        var rng = new Random(1234);
        var byteIds = ByteTokenIds(tok);
        int diverging = 0;
        for (int n = 0; n < 200; n++)
        {
            // Mostly whole characters spelt in byte tokens (valid runs, the stream must match exactly), random
            // vocabulary ids, and now and then a single random byte (which may make a run invalid).
            var list = new List<int>();
            int length = rng.Next(1, 40);
            while (list.Count < length)
            {
                int kind = byteIds.Count == 256 ? rng.Next(10) : 0;
                if (kind == 0 || kind > 6) list.Add(rng.Next(tok.VocabSize));
                else if (kind == 6) list.Add(byteIds[rng.Next(256)]);
                else
                {
                    string ch = char.ConvertFromUtf32(rng.Next(2) == 0 ? rng.Next(0x80, 0x3000) : rng.Next(0x1F300, 0x1F700));
                    foreach (byte b in System.Text.Encoding.UTF8.GetBytes(ch)) list.Add(byteIds[b]);
                }
            }
            var ids = list.ToArray();
            bool skip = n % 2 == 0;
            bool exact = ByteRunsValid(tok, ids, skip);
            if (!exact) diverging++;
            StreamAndCheck(tok, ids, skip, exact);
        }
        output.WriteLine($"{file}: 200 random sequences, {diverging} with a byte-fallback run that goes invalid after valid characters");
    }

    /// <summary>Whether every run of byte-fallback tokens that the decoder sees is valid UTF-8 or has no valid
    /// complete character before its first invalid byte (then the stream matches the full decode exactly).</summary>
    private static bool ByteRunsValid(Tokenizer tok, int[] ids, bool skipSpecialTokens)
    {
        var special = tok.AddedTokens.Where(t => t.Special).Select(t => t.Id).ToHashSet();
        var run = new List<byte>();
        foreach (int id in ids.Append(-1))
        {
            if (skipSpecialTokens && special.Contains(id)) continue;
            string? t = id < 0 ? null : tok.IdToToken(id);
            if (t is { Length: 6 } && t.StartsWith("<0x") && t.EndsWith('>'))
            {
                run.Add(Convert.ToByte(t[3..5], 16));
                continue;
            }
            if (run.Count > 0 && !RunIsSafe(run)) return false;
            run.Clear();
        }
        return true;
    }

    private static bool RunIsSafe(List<byte> run)
    {
        var bytes = run.ToArray();
        if (IsValidUtf8(bytes, bytes.Length)) return true;
        // Invalid as a whole: the stream differs only when a valid prefix of complete characters was emitted.
        for (int k = 1; k < bytes.Length; k++) if (IsValidUtf8(bytes, k)) return false;
        return true;
    }

    private static bool IsValidUtf8(byte[] bytes, int count)
    {
        try { new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, count); return true; }
        catch (DecoderFallbackException) { return false; }
    }

    private static bool IsSubsequence(string small, string big)
    {
        int j = 0;
        foreach (char c in big) if (j < small.Length && small[j] == c) j++;
        return j == small.Length;
    }

    /// <summary>Ids of the single-byte tokens, indexed by byte: SentencePiece "&lt;0xNN&gt;" pieces or GPT-2 byte
    /// characters (empty when the vocabulary lacks some).</summary>
    private static List<int> ByteTokenIds(Tokenizer tok)
    {
        var result = new List<int>();
        for (int b = 0; b < 256; b++)
            if ((tok.TokenToId($"<0x{b:X2}>") ?? tok.TokenToId(Gpt2ByteChar(b).ToString())) is int id) result.Add(id);
        return result.Count == 256 ? result : [];
    }

    /// <summary>GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the others to 256 + n.</summary>
    private static char Gpt2ByteChar(int b)
    {
        static bool Printable(int x) => x is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        if (Printable(b)) return (char)b;
        int n = 0;
        for (int x = 0; x < b; x++) if (!Printable(x)) n++;
        return (char)(256 + n);
    }

    private static int Id(Tokenizer tok, string token) =>
        tok.TokenToId(token) ?? throw new InvalidOperationException($"no token {token}");

    [SkippableFact]
    public void Byte_fallback_euro_sign_is_emitted_when_its_third_byte_arrives()
    {
        var tok = Load(BpeTestFiles.Llama2);
        int[] ids = [Id(tok, "▁price"), Id(tok, "▁"), Id(tok, "<0xE2>"), Id(tok, "<0x82>"), Id(tok, "<0xAC>"), Id(tok, "5")];
        var chunks = StreamAndCheck(tok, ids, skipSpecialTokens: true);
        // The first token's leading space is dropped, as the full decode drops it.
        Assert.Equal(["price", " ", null, null, "€", "5"], chunks);
        Assert.Equal("price €5", tok.Decode(ids));
    }

    [SkippableFact]
    public void Byte_level_emoji_split_over_four_tokens_is_emitted_whole()
    {
        var tok = Load(BpeTestFiles.Gpt2);
        // "😀" is F0 9F 98 80: one token per byte, a surrogate pair only once the last byte is in.
        int[] ids = [Id(tok, "Hi"), Id(tok, "Ġ"), .. new[] { 0xF0, 0x9F, 0x98, 0x80 }.Select(b => Id(tok, Gpt2ByteChar(b).ToString())), Id(tok, "!")];
        var chunks = StreamAndCheck(tok, ids, skipSpecialTokens: true);
        Assert.Equal(["Hi", " ", null, null, null, "😀", "!"], chunks);
    }

    [SkippableFact]
    public void Byte_level_character_split_inside_merged_tokens()
    {
        // A real multi-byte token boundary: "€" is E2 82 AC; split it as [E2 82] + [AC] when both pieces
        // exist, else byte by byte, after a word.
        var tok = Load(BpeTestFiles.Gpt2);
        string e2 = Gpt2ByteChar(0xE2).ToString(), x82 = Gpt2ByteChar(0x82).ToString(), ac = Gpt2ByteChar(0xAC).ToString();
        int[] euro = tok.TokenToId(e2 + x82) is int first
            ? [first, Id(tok, ac)]
            : [Id(tok, e2), Id(tok, x82), Id(tok, ac)];
        int[] ids = [Id(tok, "cost"), .. euro, Id(tok, "Ġ10")];
        var chunks = StreamAndCheck(tok, ids, skipSpecialTokens: true);
        Assert.Equal("cost", chunks[0]);
        Assert.All(chunks.Skip(1).Take(euro.Length - 1), c => Assert.Null(c));
        Assert.Equal("€", chunks[euro.Length]);
        Assert.Equal(" 10", chunks[^1]);
    }

    [SkippableFact]
    public void Trailing_incomplete_bytes_come_out_of_flush_as_the_full_decode_renders_them()
    {
        var tok = Load(BpeTestFiles.Llama2);
        int[] ids = [Id(tok, "▁ok"), Id(tok, "<0xE2>"), Id(tok, "<0x82>")];
        var stream = tok.CreateDecodeStream();
        Assert.Equal("ok", stream.Step(ids[0]));
        Assert.Null(stream.Step(ids[1]));
        Assert.Null(stream.Step(ids[2]));
        string rest = stream.Flush();
        Assert.Equal(tok.Decode(ids), "ok" + rest);
        Assert.Contains('\uFFFD', rest);
        Assert.Equal("", stream.Flush());
    }

    [SkippableFact]
    public void Byte_fallback_run_going_invalid_after_an_emitted_character_keeps_that_character()
    {
        // The documented divergence: "繁" (E7 B9 81) is emitted as soon as it completes; the stray 0x80 then makes
        // the whole run invalid, which the full decode (the reference's ByteFallback) renders as 4 U+FFFD.
        var tok = Load(BpeTestFiles.Llama2);
        int[] ids = [Id(tok, "▁a"), Id(tok, "<0xE7>"), Id(tok, "<0xB9>"), Id(tok, "<0x81>"), Id(tok, "<0x80>"), Id(tok, "▁b")];
        var stream = tok.CreateDecodeStream();
        var chunks = ids.Select(stream.Step).ToList();
        Assert.Equal(["a", null, null, "繁", null, "\uFFFD b"], chunks);
        Assert.Equal("", stream.Flush());
        Assert.Equal("a\uFFFD\uFFFD\uFFFD\uFFFD b", tok.Decode(ids));
    }

    [SkippableFact]
    public void Special_tokens_are_skipped_or_kept_as_asked()
    {
        var tok = Load(BpeTestFiles.Llama2);
        int bos = Id(tok, "<s>"), eos = Id(tok, "</s>");
        int[] ids = [bos, Id(tok, "▁Hello"), Id(tok, "▁world"), eos];
        Assert.Equal([null, "Hello", " world", null], StreamAndCheck(tok, ids, skipSpecialTokens: true));
        var kept = StreamAndCheck(tok, ids, skipSpecialTokens: false);
        Assert.Equal(tok.Decode(ids, skipSpecialTokens: false), string.Concat(kept));
    }

    [SkippableFact]
    public void WordPiece_continuations_join_the_previous_word()
    {
        var tok = Load(BertUncased);
        var ids = tok.Encode("tokenization isn't hard, is it?", addSpecialTokens: false).Ids;
        var chunks = StreamAndCheck(tok, ids, skipSpecialTokens: true);
        // The decoder's cleanup works per token (" ," -> ","), so "isn ' t" stays apart, as in the reference.
        Assert.Equal("tokenization isn ' t hard, is it?", tok.Decode(ids));
        Assert.Equal(["token", "ization", " isn", " '", " t", " hard", ",", " is", " it", "?"], chunks);
    }

    [SkippableTheory]
    [InlineData(BpeTestFiles.Llama2)]
    [InlineData(BpeTestFiles.Gpt2)]
    [InlineData(T5)]
    public void With_prompt_context_the_first_generated_token_keeps_its_space(string file)
    {
        var tok = Load(file);
        var prompt = tok.Encode("The capital of France is", addSpecialTokens: false).Ids;
        var all = tok.Encode("The capital of France is Paris, a city of light.", addSpecialTokens: false).Ids;
        Assert.Equal(prompt, all[..prompt.Length]);
        var stream = tok.CreateDecodeStream(prompt);
        var text = new StringBuilder();
        foreach (int id in all[prompt.Length..]) text.Append(stream.Step(id));
        text.Append(stream.Flush());
        string expected = tok.Decode(all)[tok.Decode(prompt).Length..];
        Assert.Equal(expected, text.ToString());
        Assert.StartsWith(" Paris", text.ToString());
    }

    [SkippableFact]
    public void Long_generation_keeps_a_short_window()
    {
        // Each step decodes only the last group plus the new id, so a long generation stays linear.
        var tok = Load(BpeTestFiles.Gpt2);
        var ids = tok.Encode(string.Concat(Enumerable.Repeat("Streaming text, token by token: café 😀 東京. ", 400))).Ids;
        var stream = tok.CreateDecodeStream();
        var text = new StringBuilder();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        foreach (int id in ids) text.Append(stream.Step(id));
        text.Append(stream.Flush());
        sw.Stop();
        Assert.Equal(tok.Decode(ids), text.ToString());
        output.WriteLine($"{ids.Length} ids streamed in {sw.ElapsedMilliseconds} ms");
        Assert.True(sw.ElapsedMilliseconds < 5000, $"{ids.Length} ids took {sw.ElapsedMilliseconds} ms");
    }
}
