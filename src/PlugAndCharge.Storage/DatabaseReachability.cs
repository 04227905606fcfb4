using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PlugAndCharge.Storage;

/// <summary>
/// Whether PostgreSQL answers at all, watched by a probe of its own every 250 ms (<c>select 1</c>, given up after
/// 600 ms; an error is an answer, only silence counts). A database that stops answering without closing anything (a network partition, a stopped server) would
/// otherwise hang every request until the connect or command timeout; while the probe fails, <see cref="ConnectAsync"/>
/// refuses at once with an <see cref="NpgsqlException"/>, which every caller already turns into its protocol's
/// "unavailable" answer (503 problem details, a signed FAILED, an OCPP CALLERROR), and work already waiting for a pooled
/// connection or a group commit gives up (<see cref="SilenceOf"/>). The first answered probe ends it. A crashed or
/// restarting server refuses connections by itself. Statements already sent when the database went silent still end
/// at the connection's timeouts (<see cref="StorageDataSource"/>). One watch per data source, started by the service
/// host (issue 22).
/// </summary>
public sealed class DatabaseReachability : IAsyncDisposable
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250), ProbeTimeout = TimeSpan.FromMilliseconds(600);
    private static readonly ConditionalWeakTable<NpgsqlDataSource, DatabaseReachability> Watches = new();

    private readonly NpgsqlDataSource _db, _probe;
    private readonly ILogger? _log;
    private int _holders;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _unreachableSinceTicks; // 0 while reachable
    private CancellationTokenSource _silence = new(); // cancelled when the database goes silent, replaced when it answers

    private DatabaseReachability(NpgsqlDataSource db, ILogger? log)
    {
        _db = db;
        _log = log;
        // Its own single connection. No command timeout: on a timeout Npgsql sends the server a cancel request
        // synchronously, blocking a thread while the server is silent; the probe is judged by the clock instead and
        // simply answers when the server does. TCP keepalives end it if the server's host is gone for good.
        var settings = new NpgsqlConnectionStringBuilder(StorageDataSource.ConnectionStringOf(db))
        {
            MaxPoolSize = 1, MinPoolSize = 0, Timeout = 2, CommandTimeout = 0, CancellationTimeout = -1, Multiplexing = false,
            TcpKeepAlive = true, TcpKeepAliveTime = 2, TcpKeepAliveInterval = 1,
        };
        _probe = NpgsqlDataSource.Create(settings);
        _loop = Task.Run(LoopAsync);
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

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            // An error is an answer too (refused, reset, too many clients): callers fail fast on it by themselves, and
            // recover the moment the server does. Only silence trips the watch.
            // No cancellation token reaches Npgsql (its cancellation of a connection attempt sends the server a cancel
            // request synchronously, blocking a thread while the server is silent): the probe is judged silent when it
            // has not answered within the probe timeout, and the watch stays silent until the probe answers.
            var probe = ProbeOnceAsync();
            if (await Task.WhenAny(probe, Task.Delay(ProbeTimeout, CancellationToken.None)) != probe) await GoSilentAsync(); // now, not when the probe gives up
            var answered = await probe;
            if (_stop.IsCancellationRequested) return;

            if (answered && Interlocked.Read(ref _unreachableSinceTicks) is var was and not 0)
            {
                Volatile.Write(ref _silence, new CancellationTokenSource());
                Interlocked.Exchange(ref _unreachableSinceTicks, 0);
                _log?.LogWarning("PostgreSQL answers again after {Seconds:0.0} s; requests go to it again.", TimeSpan.FromTicks(DateTime.UtcNow.Ticks - was).TotalSeconds);
            }
            else if (!answered) await GoSilentAsync();
            // While it is silent, ask again at once (each probe waits its timeout), so its return is seen quickly.
            try { if (answered) await Task.Delay(ProbeInterval, _stop.Token); } catch (OperationCanceledException) { return; }
        }
    }

    private async Task GoSilentAsync()
    {
        if (Interlocked.CompareExchange(ref _unreachableSinceTicks, DateTime.UtcNow.Ticks, 0) != 0) return;
        _log?.LogWarning("PostgreSQL did not answer a probe within {Timeout} ms; requests that need it fail at once until it does.", ProbeTimeout.TotalMilliseconds);
        await Volatile.Read(ref _silence).CancelAsync();
    }

    /// <summary>True when PostgreSQL answered (an error is an answer); false when a connection attempt timed out.</summary>
    private async Task<bool> ProbeOnceAsync()
    {
        try
        {
            await using var conn = await _probe.OpenConnectionAsync();
            await using var cmd = new NpgsqlCommand("select 1", conn);
            await cmd.ExecuteScalarAsync();
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
        try { await _loop; } catch (OperationCanceledException) { }
        await _probe.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>How the stores open connections: through the reachability watch, so they fail fast while PostgreSQL does not answer.</summary>
internal static class DataSourceConnections
{
    public static ValueTask<NpgsqlConnection> ConnectAsync(this NpgsqlDataSource db, CancellationToken ct = default) => DatabaseReachability.ConnectAsync(db, ct);
}
