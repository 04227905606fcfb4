using System.Threading.Channels;

namespace PlugAndCharge.Storage;

/// <summary>
/// Group commit: concurrent callers enqueue work and await it; one loop runs whatever has queued up as a single
/// batch (one statement or transaction, one WAL flush), then completes every caller with its own result. Throughput
/// grows with concurrency instead of paying one round trip and one flush per caller. A failing batch is retried item
/// by item so one bad item fails only its caller; a batch that failed because the database is unavailable fails every
/// caller at once (item by item, hundreds of callers would queue behind one retry each).
/// Under load the loop lingers briefly (1 ms) before a small batch: otherwise a commit faster than the arrivals between
/// two commits runs batches of two or three, and PostgreSQL's cost per batch (round trips, statement start-up, the
/// commit) dominates. A lone caller (a batch of one after a batch of one) never waits. The loop stays on the thread
/// pool rather than a thread of its own; docs/performance.md has the measurements behind both choices.
/// </summary>
internal sealed class GroupCommitQueue<T, TResult> : IAsyncDisposable
{
    private readonly Channel<Waiter> _channel = Channel.CreateUnbounded<Waiter>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>A caller's item, how it learns the outcome, and its registration on the abandon token (disposed once it has one).</summary>
    private readonly record struct Waiter(T Item, TaskCompletionSource<TResult> Done, CancellationTokenRegistration Abandon)
    {
        public void Complete(TResult result) { Done.TrySetResult(result); Abandon.Dispose(); }
        public void Fail(Exception e) { Done.TrySetException(e); Abandon.Dispose(); }
    }
    private readonly Func<IReadOnlyList<T>, Task<IReadOnlyList<TResult>>> _commit;
    private readonly int _maxBatch;
    private readonly TimeSpan _linger;
    private const int LingerBelow = 8;
    private readonly Task _loop;
    private readonly Func<(CancellationToken Token, Func<Exception> Failure)>? _abandonWhen;

    /// <param name="commit">Commits a batch and returns one result per item, in order.</param>
    /// <param name="linger">How long a batch of fewer than eight waits for more under load (1 ms unless given); zero never waits.</param>
    /// <param name="abandonWhen">
    /// When its token fires, callers still waiting get its failure at once instead of waiting out a batch stuck on a
    /// database that stopped answering (their items are skipped if not yet taken; a batch already sent may still commit:
    /// its callers were told it failed, which is the outcome "unknown" of a lost acknowledgement).
    /// </param>
    public GroupCommitQueue(Func<IReadOnlyList<T>, Task<IReadOnlyList<TResult>>> commit, int maxBatch = 256, TimeSpan? linger = null,
        Func<(CancellationToken Token, Func<Exception> Failure)>? abandonWhen = null)
    {
        _abandonWhen = abandonWhen;
        _commit = commit;
        _maxBatch = maxBatch;
        _linger = linger ?? TimeSpan.FromMilliseconds(1);
        _loop = Task.Run(RunAsync);
    }

    public Task<TResult> EnqueueAsync(T item)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var abandon = default(CancellationTokenRegistration);
        if (_abandonWhen?.Invoke() is var (token, failure) && token.CanBeCanceled)
        {
            if (token.IsCancellationRequested) return Task.FromException<TResult>(failure());
            abandon = token.Register(() => done.TrySetException(failure()));
        }
        if (!_channel.Writer.TryWrite(new Waiter(item, done, abandon))) throw new ObjectDisposedException(nameof(GroupCommitQueue<T, TResult>));
        return done.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<Waiter>(_maxBatch);
        var previous = 0;
        while (await _channel.Reader.WaitToReadAsync())
        {
            batch.Clear();
            Drain(batch);
            if (_linger > TimeSpan.Zero && batch.Count < LingerBelow && (batch.Count > 1 || previous > 1))
            {
                await Task.Delay(_linger);
                Drain(batch);
            }
            if (batch.Count == 0) continue;
            previous = batch.Count;
            try
            {
                var results = await _commit(batch.Select(b => b.Item).ToList());
                for (var i = 0; i < batch.Count; i++) batch[i].Complete(results[i]);
            }
            catch (Exception failure) when (batch.Count > 1 && !PostgresFaults.IsUnavailable(failure))
            {
                foreach (var b in batch)
                {
                    try { b.Complete((await _commit([b.Item]))[0]); }
                    catch (Exception e) { b.Fail(e); }
                }
            }
            catch (Exception e)
            {
                foreach (var b in batch) b.Fail(e);
            }
        }
    }

    private void Drain(List<Waiter> batch)
    {
        while (batch.Count < _maxBatch && _channel.Reader.TryRead(out var w))
        {
            if (!w.Done.Task.IsCompleted) batch.Add(w);
            else w.Abandon.Dispose(); // abandoned by its caller: not run
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop;
    }
}
