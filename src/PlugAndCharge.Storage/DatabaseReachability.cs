using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PlugAndCharge.Storage;

/// <summary>
/// Whether PostgreSQL answers at all, watched by a probe of its own every 250 ms (<c>select 1</c>, given up after
/// 600 ms; an error is an answer, only silence counts). A database that stops answering without closing anything (a network partition, a stopped server) would
/// otherwise hang every request until the connect or command timeout; while the probe fails, <see cref="ConnectAsync"/>
/// refuses at once with an <see cref="NpgsqlException"/>, which every caller already turns into its protocol's
/// "unavailable" answer (503 problem details, a signed FAILED, an OCPP CALLERROR). The first answered probe ends it.
/// A crashed or restarting server refuses connections by itself; the watch only makes that refusal immediate too.
/// Requests already waiting on the database when it stops answering still end at the connection's timeouts
/// (<see cref="StorageDataSource"/>). One watch per data source, started by the service host (issue 22).
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

    private DatabaseReachability(NpgsqlDataSource db, ILogger? log)
    {
        _db = db;
        _log = log;
        // Its own single connection, with short timeouts and no wait for a cancellation the server cannot answer.
        var settings = new NpgsqlConnectionStringBuilder(StorageDataSource.ConnectionStringOf(db))
        {
            MaxPoolSize = 1, MinPoolSize = 0, Timeout = 1, CommandTimeout = 1, CancellationTimeout = -1, Multiplexing = false,
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

    public bool Reachable => Interlocked.Read(ref _unreachableSinceTicks) == 0;

    /// <summary>Opens a connection, or fails at once while a watched database does not answer.</summary>
    public static ValueTask<NpgsqlConnection> ConnectAsync(NpgsqlDataSource db, CancellationToken ct = default)
    {
        if (Watches.TryGetValue(db, out var watch) && Interlocked.Read(ref watch._unreachableSinceTicks) is var since and not 0)
            throw new NpgsqlException($"PostgreSQL has not answered for {TimeSpan.FromTicks(DateTime.UtcNow.Ticks - since).TotalSeconds:0.0} s; failing fast until it does.");
        return db.OpenConnectionAsync(ct);
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            // An error is an answer too (refused, reset, too many clients): callers fail fast on it by themselves, and
            // recover the moment the server does. Only silence trips the watch.
            var answered = true;
            var started = DateTime.UtcNow;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(ProbeTimeout);
                await using var conn = await _probe.OpenConnectionAsync(timeout.Token);
                await using var cmd = new NpgsqlCommand("select 1", conn);
                await cmd.ExecuteScalarAsync(timeout.Token);
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                _probe.Clear();
                answered = !(e is OperationCanceledException || e.InnerException is TimeoutException || DateTime.UtcNow - started >= ProbeTimeout);
            }
            catch (OperationCanceledException) { return; }

            if (answered && Interlocked.Exchange(ref _unreachableSinceTicks, 0) is var was and not 0)
                _log?.LogWarning("PostgreSQL answers again after {Seconds:0.0} s; requests go to it again.", TimeSpan.FromTicks(DateTime.UtcNow.Ticks - was).TotalSeconds);
            else if (!answered && Interlocked.CompareExchange(ref _unreachableSinceTicks, DateTime.UtcNow.Ticks, 0) == 0)
                _log?.LogWarning("PostgreSQL did not answer a probe within {Timeout} ms; requests that need it fail at once until it does.", ProbeTimeout.TotalMilliseconds);
            // While it is silent, ask again at once (each probe waits its timeout), so its return is seen quickly.
            try { if (answered) await Task.Delay(ProbeInterval, _stop.Token); } catch (OperationCanceledException) { return; }
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
