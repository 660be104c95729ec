using System.Threading.Channels;
using Vivace.Engine.Batching;
using Vivace.Engine.Generation;

namespace Vivace.Server.Tests;

/// <summary>The per-model generation queue on its own: results equal to the generator's, one request after another,
/// a cancelled request dropped at once while it waits and stopped at its next token while it runs.</summary>
public class GenerationQueueTests(GenerationFixture fixture) : IClassFixture<GenerationFixture>
{
    private const string Prompt = "Hello, my dog is cute and";

    private TextGenerator Generator
    {
        get
        {
            Skip.IfNot(fixture.Available, "shared test data (goldens/gpt2-small, data/ort-genai/tiny-random-gpt2) not found");
            return fixture.Local;
        }
    }

    private static async Task<List<GenerationStep>> ReadAllAsync(GenerationTicket ticket)
    {
        var steps = new List<GenerationStep>();
        await foreach (GenerationStep step in ticket.Steps.ReadAllAsync()) steps.Add(step);
        return steps;
    }

    [SkippableFact]
    public async Task StepsAndResultsEqualTheGenerators()
    {
        using var queue = new GenerationQueue(Generator);
        var request = new GenerationRequest { Prompt = Prompt, MaxNewTokens = 12 };
        GenerationResult expected = Generator.Generate(request);
        GenerationTicket[] tickets = Enumerable.Range(0, 3).Select(_ => queue.Enqueue(request)).ToArray();
        foreach (GenerationTicket ticket in tickets)
        {
            List<GenerationStep> steps = await ReadAllAsync(ticket);
            Assert.Equal(12, steps.Count);
            GenerationResult result = steps[^1].Final!;
            Assert.Equal(expected.GeneratedText, result.GeneratedText);
            Assert.Equal(expected.GeneratedText, string.Concat(steps.Select(s => s.SafeText)));
        }
        await TestServer.WaitUntilAsync(() => queue.Depth == 0, "the queue is empty");
    }

    [SkippableFact]
    public void ABadRequestFailsOnTheCallersThreadAndNeverQueues()
    {
        using var queue = new GenerationQueue(Generator);
        Assert.Throws<Vivace.Engine.InvalidInputException>(() => queue.Enqueue(new GenerationRequest { Prompt = Prompt, MaxNewTokens = 100_000 }));
        Assert.Throws<Vivace.Engine.InvalidInputException>(() => queue.Enqueue(new GenerationRequest
        {
            Prompt = Prompt,
            Sampling = new SamplingParameters { DoSample = true, TopP = 0f },
        }));
        Assert.Equal(0, queue.Depth);
    }

    [SkippableFact]
    public async Task CancellationDropsAWaitingRequestAndStopsARunningOne()
    {
        using var queue = new GenerationQueue(Generator);
        using var cancelRunning = new CancellationTokenSource();
        using var cancelWaiting = new CancellationTokenSource();
        GenerationTicket running = queue.Enqueue(new GenerationRequest { Prompt = Prompt, MaxNewTokens = 240 }, cancelRunning.Token);
        GenerationTicket waiting = queue.Enqueue(new GenerationRequest { Prompt = Prompt, MaxNewTokens = 4 }, cancelWaiting.Token);
        await running.Steps.WaitToReadAsync(); // the first request runs: the second waits behind it

        cancelWaiting.Cancel(); // answered at once, while the first still runs
        Assert.True(waiting.Steps.Completion.IsCompleted);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Steps.Completion);

        cancelRunning.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAllAsync(running));
        await TestServer.WaitUntilAsync(() => queue.Depth == 0, "the queue is empty");

        // The worker moves on.
        List<GenerationStep> after = await ReadAllAsync(queue.Enqueue(new GenerationRequest { Prompt = Prompt, MaxNewTokens = 3 }));
        Assert.Equal(3, after.Count);
    }

    [SkippableFact]
    public async Task DisposeFailsWhatIsQueuedAndRefusesMore()
    {
        var queue = new GenerationQueue(Generator);
        GenerationTicket first = queue.Enqueue(new GenerationRequest { Prompt = Prompt, MaxNewTokens = 240 });
        GenerationTicket second = queue.Enqueue(new GenerationRequest { Prompt = Prompt, MaxNewTokens = 4 });
        queue.Dispose();
        await Assert.ThrowsAnyAsync<Exception>(() => ReadAllAsync(second));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            List<GenerationStep> steps = await ReadAllAsync(first);
            if (steps.Count == 240) throw new ChannelClosedException("finished before the stop"); // also fine: it ended
        });
        Assert.Throws<ObjectDisposedException>(() => queue.Enqueue(new GenerationRequest { Prompt = Prompt, MaxNewTokens = 1 }));
    }
}
