namespace PlugAndCharge.Storage;

/// <summary>
/// Group commit: concurrent callers enqueue work and await it; one loop runs whatever has queued up as a single
/// batch (one statement or transaction, one WAL flush), then completes every caller with its own result. Throughput
/// grows with concurrency instead of paying one round trip and one flush per caller. A failing batch is retried item
/// by item so one bad item fails only its caller.
/// <para>
/// The loop runs on a thread of its own with synchronous database calls, not on the thread pool: under load the pool's
/// queue holds the CPU-heavy work of installations (key generation, signing), and every hop of the loop through it
/// (each reply from PostgreSQL, the end of a linger) waited behind that work. At 1,000 installations/s a 1 ms linger
/// took 2-3 ms and a batch cycle about 5 ms that way; on its own thread the kernel wakes the loop when the reply
/// arrives. The thread ends after two seconds without work and starts again with the next item.
/// </para>
/// <para>
/// Under load the loop lingers briefly before a small batch: a commit that takes less time than the arrivals between
/// two commits would otherwise run batches of two or three, and PostgreSQL's cost per batch (round trips, statement
/// start-up, the commit) then dominates. At 1,000 installations/s a 1 ms linger cut PostgreSQL's CPU by about a quarter.
/// A lone caller (a batch of one after a batch of one) never waits.
/// </para>
/// </summary>
internal sealed class GroupCommitQueue<T, TResult> : IAsyncDisposable
{
    private const int LingerBelow = 8;

    private readonly Func<IReadOnlyList<T>, IReadOnlyList<TResult>> _commit;
    private readonly int _maxBatch;
    private readonly TimeSpan _linger;
    private readonly string _name;
    private readonly TimeSpan _idleExit;
    private readonly object _gate = new();
    private readonly List<(T Item, TaskCompletionSource<TResult> Done)> _pending = [];
    private bool _running;
    private bool _closed;
    private TaskCompletionSource? _stopped;

    /// <param name="commit">Commits a batch and returns one result per item, in order; it runs on the queue's thread and may block.</param>
    /// <param name="name">The loop thread's name, for diagnostics.</param>
    /// <param name="linger">How long a batch of fewer than eight waits for more under load (1 ms unless given); zero never waits.</param>
    /// <param name="idleExit">How long the thread waits for work before it ends (2 s unless given).</param>
    public GroupCommitQueue(Func<IReadOnlyList<T>, IReadOnlyList<TResult>> commit, string name, int maxBatch = 256, TimeSpan? linger = null, TimeSpan? idleExit = null)
    {
        _commit = commit;
        _name = name;
        _maxBatch = maxBatch;
        _linger = linger ?? TimeSpan.FromMilliseconds(1);
        _idleExit = idleExit ?? TimeSpan.FromSeconds(2);
    }

    /// <summary>Whether the loop thread is running (it ends when idle and starts with the next item).</summary>
    internal bool IsRunning { get { lock (_gate) return _running; } }

    public Task<TResult> EnqueueAsync(T item)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_closed) throw new ObjectDisposedException(nameof(GroupCommitQueue<T, TResult>));
            _pending.Add((item, done));
            if (!_running)
            {
                _running = true;
                new Thread(Run) { IsBackground = true, Name = _name }.Start();
            }
            else if (_pending.Count == 1) Monitor.Pulse(_gate);
        }
        return done.Task;
    }

    private void Run()
    {
        var batch = new List<(T Item, TaskCompletionSource<TResult> Done)>(_maxBatch);
        var previous = 0;
        while (true)
        {
            batch.Clear();
            lock (_gate)
            {
                while (_pending.Count == 0)
                {
                    if (_closed || !Monitor.Wait(_gate, _idleExit) && _pending.Count == 0)
                    {
                        _running = false;
                        _stopped?.TrySetResult();
                        return;
                    }
                }
                Take(batch);
            }
            if (_linger > TimeSpan.Zero && batch.Count < LingerBelow && (batch.Count > 1 || previous > 1))
            {
                Thread.Sleep(_linger);
                lock (_gate) Take(batch);
            }
            previous = batch.Count;
            Commit(batch);
        }
    }

    private void Take(List<(T Item, TaskCompletionSource<TResult> Done)> batch)
    {
        var n = Math.Min(_maxBatch - batch.Count, _pending.Count);
        batch.AddRange(_pending.GetRange(0, n));
        _pending.RemoveRange(0, n);
    }

    private void Commit(List<(T Item, TaskCompletionSource<TResult> Done)> batch)
    {
        try
        {
            var results = _commit(batch.Select(b => b.Item).ToList());
            for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
        }
        catch (Exception) when (batch.Count > 1)
        {
            foreach (var b in batch)
            {
                try { b.Done.TrySetResult(_commit([b.Item])[0]); }
                catch (Exception e) { b.Done.TrySetException(e); }
            }
        }
        catch (Exception e)
        {
            foreach (var b in batch) b.Done.TrySetException(e);
        }
    }

    /// <summary>Refuses new items, lets the loop commit what is queued, and waits for it to end.</summary>
    public async ValueTask DisposeAsync()
    {
        Task stopped;
        lock (_gate)
        {
            _closed = true;
            if (!_running) return;
            _stopped ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            stopped = _stopped.Task;
            Monitor.Pulse(_gate);
        }
        await stopped;
    }
}
