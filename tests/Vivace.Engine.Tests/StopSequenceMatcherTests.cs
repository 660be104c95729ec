using System.Text;
using Vivace.Engine.Generation;

namespace Vivace.Engine.Tests;

public class StopSequenceMatcherTests
{
    /// <summary>Pushes the pieces; returns the emitted pieces (Flush included when no stop matched) and the stop.</summary>
    private static (List<string> Pieces, string? Stop) Run(StopSequenceMatcher m, params string[] pieces)
    {
        var outPieces = new List<string>();
        foreach (string p in pieces)
        {
            var r = m.Push(p);
            outPieces.Add(r.Text);
            if (r.Stopped) return (outPieces, r.StopSequence);
        }
        outPieces.Add(m.Flush());
        return (outPieces, null);
    }

    [Fact]
    public void Without_stop_sequences_text_passes_through_at_once()
    {
        var m = new StopSequenceMatcher([]);
        var r = m.Push("Hello <");
        Assert.Equal("Hello <", r.Text);
        Assert.False(r.Stopped);
        Assert.Equal(0, m.HeldLength);
        Assert.Equal("", m.Flush());
        Assert.Equal("x", new StopSequenceMatcher(null).Push("x").Text);
        // Empty strings are no stop sequences (they would stop before the first token).
        Assert.Equal("abc", new StopSequenceMatcher(["", ""]).Push("abc").Text);
    }

    [Fact]
    public void Stop_inside_one_piece_emits_the_text_before_it()
    {
        var m = new StopSequenceMatcher(["STOP"]);
        var r = m.Push("Hello STOP world");
        Assert.Equal(new StopSequenceResult("Hello ", "STOP"), r);
        Assert.True(m.Stopped);
        Assert.Equal("STOP", m.MatchedStopSequence);
        // After a match nothing more comes out.
        Assert.Equal(new StopSequenceResult("", "STOP"), m.Push("more"));
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void Stop_spanning_several_pieces_is_held_back_then_dropped()
    {
        var (pieces, stop) = Run(new StopSequenceMatcher(["</answer>"]), "The answer is 42", "<", "/ans", "wer", "> and then");
        Assert.Equal("</answer>", stop);
        Assert.Equal(["The answer is 42", "", "", "", ""], pieces);
    }

    [Fact]
    public void A_false_start_is_released_as_soon_as_it_cannot_be_a_stop()
    {
        var m = new StopSequenceMatcher(["</s>"]);
        Assert.Equal("a", m.Push("a<").Text);
        Assert.Equal(1, m.HeldLength);
        Assert.Equal("", m.Push("/").Text);
        Assert.Equal("</b", m.Push("b").Text);
        Assert.Equal(0, m.HeldLength);
        Assert.False(m.Stopped);
    }

    [Fact]
    public void Overlapping_partial_matches_are_found()
    {
        // "aab" in "aaab": after "aaa" the match restarts from the last two "a", one "a" is released.
        var (pieces, stop) = Run(new StopSequenceMatcher(["aab"]), "a", "a", "a", "b");
        Assert.Equal("aab", stop);
        Assert.Equal(["", "", "a", ""], pieces);
        // The same in one piece, and with a longer self-overlapping stop.
        Assert.Equal(new StopSequenceResult("a", "aab"), new StopSequenceMatcher(["aab"]).Push("aaab"));
        Assert.Equal(new StopSequenceResult("aba", "abab"), new StopSequenceMatcher(["abab"]).Push("abaabab!"));
    }

    [Fact]
    public void Flush_releases_the_held_text_when_generation_ends_without_a_stop()
    {
        var m = new StopSequenceMatcher(["###"]);
        Assert.Equal("x", m.Push("x#").Text);
        Assert.Equal("", m.Push("#").Text);
        Assert.Equal("##", m.Flush());
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void Of_several_stops_the_first_completed_wins_and_at_equal_end_the_longest()
    {
        // "bc" completes (at 'c') before "abcd" could: earliest end.
        Assert.Equal(new StopSequenceResult("a", "bc"), new StopSequenceMatcher(["abcd", "bc"]).Push("abcd"));
        // Both end at 'c': the longer one, so less text is emitted.
        Assert.Equal(new StopSequenceResult("x", "abc"), new StopSequenceMatcher(["c", "abc"]).Push("xabc"));
        // Order of the list does not matter.
        Assert.Equal(new StopSequenceResult("x", "abc"), new StopSequenceMatcher(["abc", "c"]).Push("xabc"));
        // Held back for the longest candidate, released when another completes first.
        var m = new StopSequenceMatcher(["\nUser:", "\n\n"]);
        Assert.Equal("Hi", m.Push("Hi\n").Text);
        Assert.Equal(new StopSequenceResult("", "\n\n"), m.Push("\nUser:"));
    }

    [Fact]
    public void Include_stop_sequence_keeps_it_as_tgi_does()
    {
        var m = new StopSequenceMatcher(["STOP"], includeStopSequence: true);
        Assert.Equal("Hello ", m.Push("Hello ST").Text);
        Assert.Equal(new StopSequenceResult("STOP", "STOP"), m.Push("OP and more"));
    }

    [Fact]
    public void Surrogate_pairs_are_matched_and_never_split()
    {
        var m = new StopSequenceMatcher(["😀!"]);
        Assert.Equal("ok ", m.Push("ok 😀").Text);
        Assert.Equal(2, m.HeldLength);
        Assert.Equal(new StopSequenceResult("", "😀!"), m.Push("!"));
        var n = new StopSequenceMatcher(["😀!"]);
        Assert.Equal("ok ", n.Push("ok 😀").Text);
        // A second emoji: the first can no longer begin the stop sequence, the pair is released whole.
        Assert.Equal("😀", n.Push("😀").Text);
        Assert.Equal("😀", n.Flush());
    }

    [Fact]
    public void Random_texts_match_a_naive_reference_whatever_the_chunking()
    {
        var rng = new Random(42);
        for (int n = 0; n < 3000; n++)
        {
            string alphabet = n % 3 == 0 ? "ab" : "abc";
            string text = RandomString(rng, alphabet, rng.Next(0, 40));
            var stops = Enumerable.Range(0, rng.Next(0, 4)).Select(_ => RandomString(rng, alphabet, rng.Next(1, 5))).ToArray();
            bool include = rng.Next(2) == 0;
            var (expected, expectedStop) = Naive(text, stops, include);

            // Random pieces, including empty ones.
            var pieces = new List<string>();
            for (int i = 0; i < text.Length;)
            {
                int len = rng.Next(0, 6);
                len = Math.Min(len, text.Length - i);
                pieces.Add(text.Substring(i, len));
                i += len;
            }
            var m = new StopSequenceMatcher(stops, include);
            var emitted = new StringBuilder();
            var fed = new StringBuilder();
            string? stop = null;
            foreach (string p in pieces)
            {
                var r = m.Push(p);
                emitted.Append(r.Text);
                fed.Append(p);
                if (r.Stopped) { stop = r.StopSequence; break; }
                // Nothing is held that could not begin a stop sequence: the held text is the longest suffix of
                // what was fed that is a proper prefix of a stop sequence.
                Assert.Equal(fed.ToString()[..^LongestStopPrefixSuffix(fed.ToString(), stops)], emitted.ToString());
            }
            if (stop is null) emitted.Append(m.Flush());
            Assert.Equal(expectedStop, stop);
            Assert.True(expected == emitted.ToString(), $"text {text}, stops [{string.Join(",", stops)}], include {include}: expected {expected}, got {emitted}");
        }
    }

    private static string RandomString(Random rng, string alphabet, int length)
    {
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) sb.Append(alphabet[rng.Next(alphabet.Length)]);
        return sb.ToString();
    }

    /// <summary>The reference: scan every end position in order; the first at which some stop ends wins, the
    /// longest of those ending there.</summary>
    private static (string Text, string? Stop) Naive(string text, string[] stops, bool include)
    {
        for (int end = 1; end <= text.Length; end++)
        {
            string? best = null;
            foreach (string s in stops)
                if (s.Length > 0 && s.Length <= end && string.CompareOrdinal(text, end - s.Length, s, 0, s.Length) == 0
                    && (best is null || s.Length > best.Length))
                    best = s;
            if (best != null) return (include ? text[..end] : text[..(end - best.Length)], best);
        }
        return (text, null);
    }

    private static int LongestStopPrefixSuffix(string text, string[] stops)
    {
        int best = 0;
        foreach (string s in stops)
            for (int k = Math.Min(s.Length - 1, text.Length); k > best; k--)
                if (string.CompareOrdinal(text, text.Length - k, s, 0, k) == 0) { best = k; break; }
        return best;
    }

    [Fact]
    public void Long_generations_cost_linear_time()
    {
        // One character per push over 2 MB with stops that keep partial matches alive: no rescanning.
        var m = new StopSequenceMatcher(["<|im_end|>", "\n\nUser:", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"]);
        string unit = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa <|im_en\n\nUse ";
        var sw = System.Diagnostics.Stopwatch.StartNew();
        long emitted = 0, fed = 0;
        var one = new string[128];
        for (int c = 0; c < 128; c++) one[c] = ((char)c).ToString();
        while (fed < 2_000_000)
        {
            foreach (char c in unit)
            {
                emitted += m.Push(one[c]).Text.Length;
                fed++;
            }
        }
        emitted += m.Flush().Length;
        sw.Stop();
        Assert.Equal(fed, emitted);
        Assert.False(m.Stopped);
        Assert.True(sw.ElapsedMilliseconds < 5000, $"{fed} chars took {sw.ElapsedMilliseconds} ms");
    }
}

/// <summary>The two halves of streaming together: DecodeStream chunks of a real tokenizer through the matcher.</summary>
public class StreamingStopTests
{
    [SkippableTheory]
    [InlineData("swift-transformers/tokenizers/llama_tokenizer.json")]
    [InlineData("swift-transformers/tokenizers/gpt2_tokenizer.json")]
    public void Decoded_chunks_stop_where_the_full_text_does(string file)
    {
        var tok = Vivace.Tokenizers.Tokenizer.FromFile(Vivace.Tests.SharedData.Require(["data", .. file.Split('/')]));
        string[] stops = ["\n\nUser:", "😀."];
        foreach (string text in new[]
        {
            "Answer: 東京 is the capital, café.\n\nUser: next question",
            "Emoji 🇫🇷 and 😀 then 😀. after",
            "No stop at all, 𠀀 ends here\n\nUser",
        })
        {
            var ids = tok.Encode(text, addSpecialTokens: false).Ids;
            string full = tok.Decode(ids);
            int cut = stops.Select(s => full.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
            string expected = cut < 0 ? full : full[..cut];

            var stream = tok.CreateDecodeStream();
            var matcher = new StopSequenceMatcher(stops);
            var output = new StringBuilder();
            bool stopped = false;
            foreach (int id in ids)
            {
                if (stream.Step(id) is not string chunk) continue;
                var r = matcher.Push(chunk);
                output.Append(r.Text);
                if (r.Stopped) { stopped = true; break; }
            }
            if (!stopped)
            {
                var r = matcher.Push(stream.Flush());
                output.Append(r.Text);
                stopped = r.Stopped;
                if (!stopped) output.Append(matcher.Flush());
            }
            Assert.Equal(cut >= 0, stopped);
            Assert.Equal(expected, output.ToString());
        }
    }
}
