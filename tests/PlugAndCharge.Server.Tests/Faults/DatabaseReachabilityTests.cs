using Npgsql;
using PlugAndCharge.Storage;
using Xunit;

namespace PlugAndCharge.Server.Tests.Faults;

/// <summary>Alone: these tests starve the process's thread pool on purpose, which would slow every test beside them.</summary>
[CollectionDefinition(nameof(ThreadPoolStarvation), DisableParallelization = true)]
public sealed class ThreadPoolStarvation;

/// <summary>
/// The database watch (issue 22's fail-fast) must tell a silent PostgreSQL from a busy process: loaded station-load
/// runs logged silences whose probe answered 0.2-0.3 s after the limit. This guards that a blocked thread pool alone
/// is not taken for silence (the earlier async probe passed it too: it is a guard, not a reproduction). The silent
/// database itself is the fault suite's partition row.
/// </summary>
[Collection(nameof(ThreadPoolStarvation))]
public sealed class DatabaseReachabilityTests
{
    [Fact]
    public async Task A_thread_pool_blocked_for_seconds_is_not_taken_for_a_silent_database()
    {
        var admin = Environment.GetEnvironmentVariable("PNC_TEST_DATABASE") ?? throw new InvalidOperationException("PNC_TEST_DATABASE is not set");
        await using var db = NpgsqlDataSource.Create(admin);
        await using var watch = DatabaseReachability.Watch(db);
        await Task.Delay(DatabaseReachability.ProbeInterval * 3); // a few probes answered
        var silence = DatabaseReachability.SilenceOf(db);
        Assert.False(silence.IsCancellationRequested);

        // Work items that hold a pool thread each for 1.5 s, far more of them than threads: every continuation queued
        // behind them (an async probe's answer among them) waits seconds, while PostgreSQL answers at once.
        const int blockers = 12;
        using var done = new CountdownEvent(blockers);
        for (var i = 0; i < blockers; i++) ThreadPool.QueueUserWorkItem(_ => { Thread.Sleep(1500); done.Signal(); });
        await Task.Factory.StartNew(() => done.Wait(TimeSpan.FromSeconds(60)), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Assert.False(silence.IsCancellationRequested, "the watch declared PostgreSQL silent while only the thread pool was blocked");
        await using var conn = await DatabaseReachability.ConnectAsync(db); // and requests go to it
    }
}
