using System.Collections.Concurrent;
using Vivace.Cpu;
using Vivace.Engine.Generation;
using Vivace.Tests;

namespace Vivace.Engine.Tests;

/// <summary>
/// Continuous batching: requests that join and leave a running batch get exactly what they get alone (greedy and
/// seeded sampling, text and token ids), a cancelled request leaves at once, and passes really hold several sequences.
/// </summary>
public class GenerationSchedulerTests
{
    /// <summary>The scheduler leaves a cancelled sequence on its own thread: poll (on a loaded 2-core CI machine a fixed
    /// 20–50 ms wait was not always enough), failing after 10 s.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    private static TextGenerator Load() => TextGenerator.Load(TestModels.Gpt2WithTokenizer(), CpuOps.Default, "gpt2-test");

    private static readonly GenerationRequest[] Requests =
    [
        new() { Prompt = "Hello world, this is a test of", MaxNewTokens = 30 },
        new() { Prompt = "A", MaxNewTokens = 5 },
        new() { Prompt = "The quick brown fox jumps over the lazy dog again and again", MaxNewTokens = 17 },
        new() { Prompt = "Sampling", MaxNewTokens = 25, Sampling = new SamplingParameters { DoSample = true, Temperature = 1.2f, TopK = 50, Seed = 9 } },
        new() { Prompt = "Penalized", MaxNewTokens = 20, Sampling = new SamplingParameters { RepetitionPenalty = 2f, TopNTokens = 2 } },
        new() { Prompt = "Stop", MaxNewTokens = 40, Stop = ["e"] },
    ];

    [SkippableFact]
    public async Task RequestsTogetherGetWhatTheyGetAlone()
    {
        TextGenerator generator = Load();
        GenerationResult[] alone = Requests.Select(r => generator.Generate(r)).ToArray();

        using var scheduler = new GenerationScheduler(generator, new SchedulerOptions(MaxSequences: 4, MaxPassTokens: 64));
        var passes = new ConcurrentBag<SchedulerPass>();
        scheduler.PassCompleted += passes.Add;
        // Three start together; the other three join once the first is 5 tokens in (mid-way through the others).
        var readers = Requests.Take(3).Select(r => scheduler.Submit(r)).ToList();
        var firstSteps = new List<GenerationStep>();
        while (firstSteps.Count < 5) firstSteps.Add(await readers[0].ReadAsync());
        readers.AddRange(Requests.Skip(3).Select(r => scheduler.Submit(r)));
        await foreach (GenerationStep step in readers[0].ReadAllAsync()) firstSteps.Add(step);
        var together = new GenerationResult[Requests.Length];
        together[0] = firstSteps[^1].Final!;
        for (int i = 1; i < Requests.Length; i++)
            await foreach (GenerationStep step in readers[i].ReadAllAsync()) together[i] = step.Final ?? together[i];

        for (int i = 0; i < Requests.Length; i++)
        {
            Assert.Equal(alone[i].Tokens.Select(t => t.Id), together[i].Tokens.Select(t => t.Id));
            Assert.Equal(alone[i].Tokens.Select(t => t.Logprob), together[i].Tokens.Select(t => t.Logprob));
            Assert.Equal(alone[i].GeneratedText, together[i].GeneratedText);
            Assert.Equal(alone[i].FinishReason, together[i].FinishReason);
        }
        Assert.Contains(passes, p => p.Sequences > 1);
        Assert.All(passes, p => Assert.True(p.Sequences <= 4));
        Assert.Equal(0, scheduler.Running);
        Assert.Equal(0, scheduler.Waiting);
    }

    [SkippableFact]
    public async Task StreamedStepsMatchTheLoneStream()
    {
        TextGenerator generator = Load();
        var expected = generator.Stream(Requests[0]).Select(s => (s.Token.Id, s.SafeText)).ToList();
        using var scheduler = new GenerationScheduler(generator);
        var got = new List<(int, string)>();
        await foreach (GenerationStep step in scheduler.Submit(Requests[0]).ReadAllAsync()) got.Add((step.Token.Id, step.SafeText));
        Assert.Equal(expected, got);
    }

    [SkippableFact]
    public async Task CancelledRequestLeavesAndOthersGoOn()
    {
        TextGenerator generator = Load();
        using var scheduler = new GenerationScheduler(generator);
        using var cancel = new CancellationTokenSource();
        var reader = scheduler.Submit(new GenerationRequest { Prompt = "long", MaxNewTokens = 200 }, cancel.Token);
        Task<GenerationResult> other = scheduler.GenerateAsync(Requests[1]);

        await reader.ReadAsync(); // it started
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { await foreach (var _ in reader.ReadAllAsync()) { } });
        Assert.Equal(generator.Generate(Requests[1]).GeneratedText, (await other).GeneratedText);
        await WaitUntilAsync(() => scheduler.Running == 0, "the cancelled sequence has left the batch");
    }

    [SkippableFact]
    public async Task AWaitingRequestCancelledIsAnsweredAtOnce()
    {
        TextGenerator generator = Load();
        using var scheduler = new GenerationScheduler(generator, new SchedulerOptions(MaxSequences: 1));
        using var cancelRunning = new CancellationTokenSource();
        using var cancelWaiting = new CancellationTokenSource();
        GenerationTicket running = scheduler.Enqueue(new GenerationRequest { Prompt = "a", MaxNewTokens = 240 }, cancelRunning.Token);
        GenerationTicket waiting = scheduler.Enqueue(new GenerationRequest { Prompt = "b", MaxNewTokens = 4 }, cancelWaiting.Token);
        await running.Steps.WaitToReadAsync(); // the batch holds one sequence: the second waits
        Assert.Equal(2, scheduler.Depth);

        cancelWaiting.Cancel(); // answered on the spot, while the first still runs
        Assert.True(waiting.Steps.Completion.IsCompleted);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Steps.Completion);
        Assert.Equal(TimeSpan.Zero, waiting.QueueTime);
        Assert.True(running.QueueTime >= TimeSpan.Zero);

        cancelRunning.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { await foreach (var _ in running.Steps.ReadAllAsync()) { } });
        await WaitUntilAsync(() => scheduler.Depth == 0, "the scheduler is empty");
        Assert.Equal(3, (await scheduler.GenerateAsync(new GenerationRequest { Prompt = "c", MaxNewTokens = 3 })).GeneratedTokens);
    }

    [SkippableFact]
    public void BadRequestsFailAtSubmit()
    {
        using var scheduler = new GenerationScheduler(Load());
        Assert.Throws<InvalidInputException>(() => scheduler.Submit(new GenerationRequest { Prompt = "x", MaxNewTokens = 10_000 }));
        Assert.Throws<InvalidInputException>(() => scheduler.Submit(new GenerationRequest { Prompt = "x", Sampling = new SamplingParameters { TopP = 2 } }));
        Assert.Equal(0, scheduler.Waiting);
    }

    [SkippableFact]
    public async Task DisposeEndsWaitingRequests()
    {
        var scheduler = new GenerationScheduler(Load(), new SchedulerOptions(MaxSequences: 1));
        var first = scheduler.Submit(new GenerationRequest { Prompt = "a", MaxNewTokens = 200 });
        var second = scheduler.Submit(new GenerationRequest { Prompt = "b", MaxNewTokens = 5 });
        await first.ReadAsync();
        scheduler.Dispose();
        await Assert.ThrowsAnyAsync<Exception>(async () => { await foreach (var _ in second.ReadAllAsync()) { } });
        Assert.Throws<ObjectDisposedException>(() => scheduler.Submit(Requests[1]));
    }
}
