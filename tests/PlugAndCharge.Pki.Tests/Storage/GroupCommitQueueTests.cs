using PlugAndCharge.Storage;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Storage;

/// <summary>The group commit loop without a database: batching, per-item retry, its own thread, draining on dispose.</summary>
public sealed class GroupCommitQueueTests
{
    [Fact]
    public async Task Callers_that_queue_up_behind_a_running_commit_share_the_next_batch_and_each_gets_its_own_result()
    {
        using var gate = new ManualResetEventSlim(false);
        var batches = new List<int>();
        var threads = new HashSet<string?>();
        await using var queue = new GroupCommitQueue<int, int>(items =>
        {
            lock (batches) { batches.Add(items.Count); threads.Add(Thread.CurrentThread.IsThreadPoolThread ? "pool" : Thread.CurrentThread.Name); }
            gate.Wait();
            return items.Select(i => i * 10).ToList();
        }, "test-commit");

        var first = queue.EnqueueAsync(0);
        while (true) { lock (batches) if (batches.Count == 1) break; await Task.Delay(5); }
        var rest = Enumerable.Range(1, 40).Select(queue.EnqueueAsync).ToList();
        gate.Set();

        Assert.Equal(0, await first);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => i * 10), await Task.WhenAll(rest));
        lock (batches)
        {
            Assert.Equal([1, 40], batches);
            Assert.Equal(["test-commit"], threads);
        }
    }

    [Fact]
    public async Task A_failing_batch_is_retried_item_by_item_so_only_the_bad_item_fails()
    {
        using var gate = new ManualResetEventSlim(false);
        var started = new TaskCompletionSource();
        await using var queue = new GroupCommitQueue<string, string>(items =>
        {
            started.TrySetResult();
            gate.Wait();
            if (items.Contains("bad")) throw new InvalidOperationException("bad item");
            return items.Select(i => i.ToUpperInvariant()).ToList();
        }, "test-commit", linger: TimeSpan.Zero);

        var blocker = queue.EnqueueAsync("first");
        await started.Task;
        var good = queue.EnqueueAsync("good");
        var bad = queue.EnqueueAsync("bad");
        var other = queue.EnqueueAsync("other");
        gate.Set();

        Assert.Equal("FIRST", await blocker);
        Assert.Equal("GOOD", await good);
        Assert.Equal("OTHER", await other);
        Assert.Equal("bad item", (await Assert.ThrowsAsync<InvalidOperationException>(() => bad)).Message);
    }

    [Fact]
    public async Task Dispose_commits_what_is_queued_and_refuses_new_items()
    {
        using var gate = new ManualResetEventSlim(false);
        var started = new TaskCompletionSource();
        var queue = new GroupCommitQueue<int, int>(items =>
        {
            started.TrySetResult();
            gate.Wait();
            return items.ToList();
        }, "test-commit");
        var first = queue.EnqueueAsync(1);
        await started.Task;
        var queued = queue.EnqueueAsync(2);

        var disposed = queue.DisposeAsync().AsTask();
        Assert.Throws<ObjectDisposedException>(() => { _ = queue.EnqueueAsync(3); });
        Assert.False(disposed.IsCompleted);
        gate.Set();
        await disposed;

        Assert.Equal(1, await first);
        Assert.Equal(2, await queued);
        Assert.False(queue.IsRunning);
    }

    [Fact]
    public async Task The_thread_ends_when_idle_and_the_next_item_starts_a_new_one()
    {
        await using var queue = new GroupCommitQueue<int, int>(items => items.ToList(), "test-commit", idleExit: TimeSpan.FromMilliseconds(50));
        Assert.False(queue.IsRunning);
        Assert.Equal(7, await queue.EnqueueAsync(7));
        while (queue.IsRunning) await Task.Delay(10);
        Assert.Equal(8, await queue.EnqueueAsync(8));
    }
}
