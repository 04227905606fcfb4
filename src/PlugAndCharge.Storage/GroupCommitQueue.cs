using System.Threading.Channels;

namespace PlugAndCharge.Storage;

/// <summary>
/// Group commit: concurrent callers enqueue work and await it; one loop runs whatever has queued up as a single
/// batch (one transaction, one WAL flush), then completes every caller. Throughput grows with concurrency instead of
/// serializing on the audit chain lock. A failing batch is retried item by item so one bad item fails only its caller.
/// </summary>
internal sealed class GroupCommitQueue<T> : IAsyncDisposable
{
    private readonly Channel<(T Item, TaskCompletionSource Done)> _channel = Channel.CreateUnbounded<(T, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<IReadOnlyList<T>, Task> _commit;
    private readonly int _maxBatch;
    private readonly Task _loop;

    public GroupCommitQueue(Func<IReadOnlyList<T>, Task> commit, int maxBatch = 256)
    {
        _commit = commit;
        _maxBatch = maxBatch;
        _loop = Task.Run(RunAsync);
    }

    public Task EnqueueAsync(T item)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_channel.Writer.TryWrite((item, done))) throw new ObjectDisposedException(nameof(GroupCommitQueue<T>));
        return done.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<(T Item, TaskCompletionSource Done)>(_maxBatch);
        while (await _channel.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _channel.Reader.TryRead(out var w)) batch.Add(w);
            try
            {
                await _commit(batch.Select(b => b.Item).ToList());
                foreach (var b in batch) b.Done.TrySetResult();
            }
            catch (Exception) when (batch.Count > 1)
            {
                foreach (var b in batch)
                {
                    try { await _commit([b.Item]); b.Done.TrySetResult(); }
                    catch (Exception e) { b.Done.TrySetException(e); }
                }
            }
            catch (Exception e)
            {
                foreach (var b in batch) b.Done.TrySetException(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop;
    }
}
