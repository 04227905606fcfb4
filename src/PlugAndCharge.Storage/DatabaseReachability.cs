using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PlugAndCharge.Storage;

/// <summary>
/// Whether PostgreSQL answers at all, watched by a probe of its own every 250 ms (<c>select 1</c>, judged silent when
/// it has not answered within 600 ms; an error is an answer, only silence counts). A database that stops answering
/// without closing anything (a network partition, a stopped server) would otherwise hang every request until the
/// connect or command timeout; while the probe fails, <see cref="ConnectAsync"/> refuses at once with an
/// <see cref="NpgsqlException"/>, which every caller already turns into its protocol's "unavailable" answer (503
/// problem details, a signed FAILED, an OCPP CALLERROR), and work already waiting for a pooled connection or a group
/// commit gives up (<see cref="SilenceOf"/>). The first answered probe ends it. A crashed or restarting server refuses
/// connections by itself. Statements already sent when the database went silent still end at the connection's
/// timeouts (<see cref="StorageDataSource"/>). One watch per data source, started by the service host (issue 22).
/// The probe runs synchronously on a thread of its own and a timer armed for each probe judges it, so the thread
/// pool's backlog under a CPU-bound burst cannot make a prompt answer look late (a thread blocked in a socket read is
/// woken by the kernel when the answer arrives); instance logs of loaded station-load runs had shown two silences whose
/// probe answered 0.2-0.3 s after the limit, while stations were refused for a database that was there.
/// </summary>
public sealed class DatabaseReachability : IAsyncDisposable
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250), ProbeTimeout = TimeSpan.FromMilliseconds(600);
    private static readonly ConditionalWeakTable<NpgsqlDataSource, DatabaseReachability> Watches = new();

    private readonly NpgsqlDataSource _db, _probe;
    private readonly ILogger? _log;
    private int _holders;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _prober;
    private readonly Timer _deadline; // armed while a probe is in flight; fires at its timeout
    private long _probeSentAt; // Stopwatch timestamp of the probe in flight, 0 when none is (written by the probe thread only)
    private long _unreachableSinceTicks; // 0 while reachable
    private CancellationTokenSource _silence = new(); // cancelled when the database goes silent, replaced when it answers

    private DatabaseReachability(NpgsqlDataSource db, ILogger? log)
    {
        _db = db;
        _log = log;
        // Its own single connection. No command timeout: on a timeout Npgsql sends the server a cancel request
        // synchronously, blocking while the server is silent; the probe is judged by the clock instead and simply
        // answers when the server does. TCP keepalives end it if the server's host is gone for good.
        var settings = new NpgsqlConnectionStringBuilder(StorageDataSource.ConnectionStringOf(db))
        {
            MaxPoolSize = 1, MinPoolSize = 0, Timeout = 2, CommandTimeout = 0, CancellationTimeout = -1, Multiplexing = false,
            TcpKeepAlive = true, TcpKeepAliveTime = 2, TcpKeepAliveInterval = 1,
        };
        _probe = NpgsqlDataSource.Create(settings);
        _deadline = new Timer(_ => Judge(), null, Timeout.Infinite, Timeout.Infinite);
        _prober = new Thread(ProbeLoop) { IsBackground = true, Name = "pnc database probe" };
        _prober.Start();
    }

    /// <summary>Starts watching the data source, or joins its watch; the watch ends when every holder disposed it.</summary>
    public static DatabaseReachability Watch(NpgsqlDataSource db, ILogger? log = null)
    {
        lock (Watches)
        {
            var watch = Watches.GetValue(db, d => new DatabaseReachability(d, log));
            watch._holders++;
            return watch;
        }
    }

    /// <summary>
    /// Cancelled the moment the watched database goes silent: work waiting for it (a connection from the pool, a group
    /// commit) gives up then instead of at its timeout. <see cref="CancellationToken.None"/> for an unwatched one.
    /// </summary>
    public static CancellationToken SilenceOf(NpgsqlDataSource db) => Watches.TryGetValue(db, out var watch) ? Volatile.Read(ref watch._silence).Token : default;

    /// <summary>The failure a caller gets while the database is silent: an <see cref="NpgsqlException"/>, as for any unavailable database.</summary>
    public static NpgsqlException Silent(NpgsqlDataSource db) =>
        new(Watches.TryGetValue(db, out var watch) && Interlocked.Read(ref watch._unreachableSinceTicks) is var since and not 0
            ? $"PostgreSQL has not answered for {TimeSpan.FromTicks(DateTime.UtcNow.Ticks - since).TotalSeconds:0.0} s; failing fast until it does."
            : "PostgreSQL stopped answering.");

    /// <summary>Opens a connection, or fails at once while a watched database does not answer (also while waiting for one).</summary>
    public static async ValueTask<NpgsqlConnection> ConnectAsync(NpgsqlDataSource db, CancellationToken ct = default)
    {
        var silence = SilenceOf(db);
        if (silence.IsCancellationRequested) throw Silent(db);
        var open = db.OpenConnectionAsync(ct);
        if (open.IsCompleted || !silence.CanBeCanceled) return await open;
        // Raced, not cancelled: Npgsql answers the cancellation of a connection attempt with a cancel request to the
        // server, sent synchronously, which blocks the thread for as long as a silent server keeps quiet.
        var opening = open.AsTask();
        var gaveUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (silence.Register(() => gaveUp.TrySetResult()))
            if (await Task.WhenAny(opening, gaveUp.Task) == opening) return await opening;
        _ = opening.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        throw Silent(db);
    }

    /// <summary>The probe thread: one synchronous probe after another, 250 ms apart while answered, at once while not.</summary>
    private void ProbeLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            // An error is an answer too (refused, reset, too many clients): callers fail fast on it by themselves, and
            // recover the moment the server does. Only silence trips the watch: a timeout of the probe's own connect,
            // or the deadline timer finding it unanswered after the probe timeout.
            Volatile.Write(ref _probeSentAt, Stopwatch.GetTimestamp());
            Arm(ProbeTimeout);
            var answered = ProbeOnce();
            Volatile.Write(ref _probeSentAt, 0);
            Arm(Timeout.InfiniteTimeSpan);
            if (_stop.IsCancellationRequested) return;
            if (!answered) { GoSilent(); continue; } // while it is silent, ask again at once (each probe waits its timeout)
            if (Interlocked.Read(ref _unreachableSinceTicks) != 0) Answered();
            _stop.Token.WaitHandle.WaitOne(ProbeInterval);
        }
    }

    /// <summary>The probe's deadline: silent when the probe in flight has gone unanswered for the probe timeout.</summary>
    private void Judge()
    {
        // The clock first, then the probe: a probe seen in flight after "now" was read had been in flight since it was
        // sent, so a timer that runs late, or just as the answer comes, never blames a probe that answered in time.
        var now = Stopwatch.GetTimestamp();
        if (Volatile.Read(ref _probeSentAt) is not (var sent and not 0)) return;
        var left = ProbeTimeout - Stopwatch.GetElapsedTime(sent, now);
        if (left > TimeSpan.Zero) Arm(left); // fired a little early: the probe gets all of its time
        else GoSilent();
    }

    private void Arm(TimeSpan due)
    {
        try { _deadline.Change(due, Timeout.InfiniteTimeSpan); }
        catch (ObjectDisposedException) { } // the watch was disposed while a probe was still blocked
    }

    /// <summary>Silent from now (the deadline and the probe thread both may say so; the transitions take a lock).</summary>
    private void GoSilent()
    {
        CancellationTokenSource silence;
        lock (_stop)
        {
            if (Interlocked.Read(ref _unreachableSinceTicks) != 0) return;
            Interlocked.Exchange(ref _unreachableSinceTicks, DateTime.UtcNow.Ticks);
            silence = _silence; // the source of this silence: an answer meanwhile replaces it, and must not be cancelled
        }
        _log?.LogWarning("PostgreSQL did not answer a probe within {Timeout} ms; requests that need it fail at once until it does.", ProbeTimeout.TotalMilliseconds);
        // Synchronously, so that the very next ConnectAsync refuses: the callbacks registered on it only complete tasks
        // whose continuations run asynchronously (ConnectAsync, the group commit's waiters).
        try { silence.Cancel(); }
        catch (AggregateException e) { _log?.LogError(e, "A waiter on the database's silence failed."); }
    }

    /// <summary>Answered again: a fresh, uncancelled silence token, and requests go to the database again.</summary>
    private void Answered()
    {
        long was;
        lock (_stop)
        {
            was = Interlocked.Read(ref _unreachableSinceTicks);
            if (was == 0) return;
            Volatile.Write(ref _silence, new CancellationTokenSource());
            Interlocked.Exchange(ref _unreachableSinceTicks, 0);
        }
        _log?.LogWarning("PostgreSQL answers again after {Seconds:0.0} s; requests go to it again.", TimeSpan.FromTicks(DateTime.UtcNow.Ticks - was).TotalSeconds);
    }

    /// <summary>True when PostgreSQL answered (an error is an answer); false when the probe's connect timed out.</summary>
    private bool ProbeOnce()
    {
        try
        {
            using var conn = _probe.OpenConnection();
            using var cmd = new NpgsqlCommand("select 1", conn);
            cmd.ExecuteScalar();
            return true;
        }
        catch (Exception e)
        {
            _probe.Clear();
            return !(e is TimeoutException || e.InnerException is TimeoutException || e is NpgsqlException { IsTransient: true } && e.Message.Contains("timeout", StringComparison.OrdinalIgnoreCase));
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (Watches)
        {
            if (--_holders > 0) return;
            Watches.Remove(_db);
        }
        await _stop.CancelAsync();
        // A probe blocked on a silent server ends at its connect timeout or the TCP keepalives; the thread is a
        // background one, so a dispose does not wait for more than that.
        await Task.Run(() => _prober.Join(TimeSpan.FromSeconds(3)));
        await _deadline.DisposeAsync();
        await _probe.DisposeAsync();
    }
}

/// <summary>How the stores open connections: through the reachability watch, so they fail fast while PostgreSQL does not answer.</summary>
internal static class DataSourceConnections
{
    public static ValueTask<NpgsqlConnection> ConnectAsync(this NpgsqlDataSource db, CancellationToken ct = default) => DatabaseReachability.ConnectAsync(db, ct);
}
