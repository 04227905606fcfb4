using System.Threading.Channels;

namespace PlugAndCharge.Storage;

/// <summary>
/// Group commit: concurrent callers enqueue work and await it; one loop runs whatever has queued up as a single
/// batch (one statement or transaction, one WAL flush), then completes every caller with its own result. Throughput
/// grows with concurrency instead of paying one round trip and one flush per caller. A failing batch is retried item
/// by item so one bad item fails only its caller.
/// </summary>
internal sealed class GroupCommitQueue<T, TResult> : IAsyncDisposable
{
    private readonly Channel<(T Item, TaskCompletionSource<TResult> Done)> _channel =
        Channel.CreateUnbounded<(T, TaskCompletionSource<TResult>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<IReadOnlyList<T>, Task<IReadOnlyList<TResult>>> _commit;
    private readonly int _maxBatch;
    private readonly Task _loop;

    /// <param name="commit">Commits a batch and returns one result per item, in order.</param>
    public GroupCommitQueue(Func<IReadOnlyList<T>, Task<IReadOnlyList<TResult>>> commit, int maxBatch = 256)
    {
        _commit = commit;
        _maxBatch = maxBatch;
        _loop = Task.Run(RunAsync);
    }

    public Task<TResult> EnqueueAsync(T item)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_channel.Writer.TryWrite((item, done))) throw new ObjectDisposedException(nameof(GroupCommitQueue<T, TResult>));
        return done.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<(T Item, TaskCompletionSource<TResult> Done)>(_maxBatch);
        while (await _channel.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _channel.Reader.TryRead(out var w)) batch.Add(w);
            try
            {
                var results = await _commit(batch.Select(b => b.Item).ToList());
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
            }
            catch (Exception) when (batch.Count > 1)
            {
                foreach (var b in batch)
                {
                    try { b.Done.TrySetResult((await _commit([b.Item]))[0]); }
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
