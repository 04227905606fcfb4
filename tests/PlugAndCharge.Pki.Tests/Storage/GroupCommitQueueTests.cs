using PlugAndCharge.Storage;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Storage;

/// <summary>The group commit loop without a database: batching, per-item retry, draining on dispose.</summary>
public sealed class GroupCommitQueueTests
{
    [Fact]
    public async Task Callers_that_queue_up_behind_a_running_commit_share_the_next_batch_and_each_gets_its_own_result()
    {
        var gate = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        var batches = new List<int>();
        await using var queue = new GroupCommitQueue<int, int>(async items =>
        {
            lock (batches) batches.Add(items.Count);
            started.TrySetResult();
            await gate.Task;
            return items.Select(i => i * 10).ToList();
        });

        var first = queue.EnqueueAsync(0);
        await started.Task;
        var rest = Enumerable.Range(1, 40).Select(queue.EnqueueAsync).ToList();
        gate.SetResult();

        Assert.Equal(0, await first);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => i * 10), await Task.WhenAll(rest));
        lock (batches) Assert.Equal([1, 40], batches);
    }

    [Fact]
    public async Task A_failing_batch_is_retried_item_by_item_so_only_the_bad_item_fails()
    {
        var gate = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        await using var queue = new GroupCommitQueue<string, string>(async items =>
        {
            started.TrySetResult();
            await gate.Task;
            if (items.Contains("bad")) throw new InvalidOperationException("bad item");
            return items.Select(i => i.ToUpperInvariant()).ToList();
        }, linger: TimeSpan.Zero);

        var blocker = queue.EnqueueAsync("first");
        await started.Task;
        var good = queue.EnqueueAsync("good");
        var bad = queue.EnqueueAsync("bad");
        var other = queue.EnqueueAsync("other");
        gate.SetResult();

        Assert.Equal("FIRST", await blocker);
        Assert.Equal("GOOD", await good);
        Assert.Equal("OTHER", await other);
        Assert.Equal("bad item", (await Assert.ThrowsAsync<InvalidOperationException>(() => bad)).Message);
    }

    [Fact]
    public async Task Dispose_commits_what_is_queued_and_refuses_new_items()
    {
        var gate = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        var queue = new GroupCommitQueue<int, int>(async items =>
        {
            started.TrySetResult();
            await gate.Task;
            return items.ToList();
        });
        var first = queue.EnqueueAsync(1);
        await started.Task;
        var queued = queue.EnqueueAsync(2);

        var disposed = queue.DisposeAsync().AsTask();
        Assert.Throws<ObjectDisposedException>(() => { _ = queue.EnqueueAsync(3); });
        Assert.False(disposed.IsCompleted);
        gate.SetResult();
        await disposed;

        Assert.Equal(1, await first);
        Assert.Equal(2, await queued);
    }
}
