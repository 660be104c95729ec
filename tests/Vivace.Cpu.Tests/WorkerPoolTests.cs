namespace Vivace.Cpu.Tests;

public unsafe class WorkerPoolTests
{
    private struct MarkEach : IParallelWork
    {
        public int* Marks;
        public readonly void Execute(int index) => Interlocked.Increment(ref Marks[index]);
    }

    private struct FailAt : IParallelWork
    {
        public int Index;
        public readonly void Execute(int index)
        {
            if (index == Index) throw new InvalidOperationException($"item {index} failed");
        }
    }

    private struct Nested : IParallelWork
    {
        public nint PoolHandle;
        public int* Marks;
        public int Inner;
        public readonly void Execute(int index)
        {
            var pool = (WorkerPool)System.Runtime.InteropServices.GCHandle.FromIntPtr(PoolHandle).Target!;
            pool.For(Inner, new MarkEach { Marks = Marks + index * Inner });
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 5)]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(2, 1000)]
    [InlineData(4, 3)]
    [InlineData(4, 10007)]
    public void ForRunsEveryItemExactlyOnce(int threads, int count)
    {
        using var pool = new WorkerPool(threads);
        for (int round = 0; round < 50; round++)
        {
            var marks = new int[count + 1];
            fixed (int* p = marks) pool.For(count, new MarkEach { Marks = p });
            for (int i = 0; i < count; i++) Assert.Equal(1, marks[i]);
            Assert.Equal(0, marks[count]);
        }
    }

    [Fact]
    public void AnItemsExceptionReachesTheCallerAndThePoolKeepsWorking()
    {
        using var pool = new WorkerPool(2);
        var ex = Assert.Throws<InvalidOperationException>(() => pool.For(100, new FailAt { Index = 57 }));
        Assert.Contains("57", ex.Message);
        var marks = new int[10];
        fixed (int* p = marks) pool.For(10, new MarkEach { Marks = p });
        Assert.All(marks, m => Assert.Equal(1, m));
    }

    [Fact]
    public void NestedAndConcurrentLoopsRunInlineInsteadOfDeadlocking()
    {
        using var pool = new WorkerPool(2);
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(pool);
        try
        {
            var marks = new int[8 * 16];
            fixed (int* p = marks) pool.For(8, new Nested { PoolHandle = System.Runtime.InteropServices.GCHandle.ToIntPtr(handle), Marks = p, Inner = 16 });
            Assert.All(marks, m => Assert.Equal(1, m));
        }
        finally { handle.Free(); }

        var results = new int[4][];
        Parallel.For(0, 4, t =>
        {
            results[t] = new int[500];
            for (int round = 0; round < 20; round++)
                fixed (int* p = results[t]) pool.For(500, new MarkEach { Marks = p });
        });
        Assert.All(results, r => Assert.All(r, m => Assert.Equal(20, m)));
    }

    [Fact]
    public void ThreadCountIsChecked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
        using var pool = new WorkerPool(3);
        Assert.Equal(3, pool.ThreadCount);
    }
}
