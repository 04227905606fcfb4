using System.Diagnostics;
using System.Globalization;

namespace PlugAndCharge.Benchmarks.Contracts;

/// <summary>
/// The control for issue 22's two-instance throughput: installations (no HTTP), closed loop, measured in a window that
/// opens at a given wall-clock time. Each world (its own CA, stores and cars) has its own callers, so worlds share
/// nothing, not even a lock: one process with two worlds against two processes with one world each, in the same window,
/// shows what two .NET processes cost on the same cores when nothing coordinates them. In memory by default; with
/// PNC_BENCH_DATABASE (a connection string whose user may create databases) each world persists in a database of its
/// own, created for the run and dropped after it, with its own pool and group commits, as an instance has.
/// Usage: install-window SECONDS WORLDS CALLERS_PER_WORLD START_UNIX_SECONDS.
/// </summary>
public static class InstallationWindow
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = int.Parse(args[0], CultureInfo.InvariantCulture);
        var worlds = int.Parse(args[1], CultureInfo.InvariantCulture);
        var callers = int.Parse(args[2], CultureInfo.InvariantCulture);
        var start = DateTimeOffset.FromUnixTimeSeconds(long.Parse(args[3], CultureInfo.InvariantCulture));
        var end = start.AddSeconds(seconds);
        var server = Environment.GetEnvironmentVariable("PNC_BENCH_DATABASE") is { Length: > 0 } s ? s : null;
        var databases = new List<PlugAndCharge.Tests.PostgresDatabase>();
        var built = new List<InstallationWorld>();
        for (var w = 0; w < worlds; w++)
        {
            var database = server == null ? null : await PlugAndCharge.Tests.PostgresDatabase.CreateAsync(server, "pnc_window_", maxPoolSize: null);
            if (database != null) databases.Add(database);
            built.Add(await InstallationWorld.OpenAsync(database: database?.ConnectionString));
        }

        var counted = 0L;
        var me = Process.GetCurrentProcess();
        var cpuAtStart = TimeSpan.Zero;
        var wait = start - DateTimeOffset.UtcNow;
        if (wait < TimeSpan.Zero) throw new InvalidOperationException($"The window opened {-wait.TotalSeconds:0.0} s before the worlds were built: give a later start.");
        var opened = Task.Delay(wait).ContinueWith(_ => { me.Refresh(); cpuAtStart = me.TotalProcessorTime; Interlocked.Exchange(ref counted, 0); }, TaskScheduler.Default);
        await Task.WhenAll(built.SelectMany(world =>
        {
            var next = 0;
            return Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
            {
                while (DateTimeOffset.UtcNow < end)
                {
                    await world.InstallAsync(Interlocked.Increment(ref next));
                    Interlocked.Increment(ref counted);
                }
            }));
        }));
        await opened;
        me.Refresh();
        var total = Interlocked.Read(ref counted);
        var cpu = me.TotalProcessorTime - cpuAtStart;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"process {Environment.ProcessId}, {worlds} world(s): {total} installations in {seconds} s = {total / seconds} /s, {cpu.TotalMilliseconds / Math.Max(1, total):0.000} ms CPU each, {cpu.TotalSeconds / seconds:0.00} cores"));
        foreach (var world in built) await world.DisposeAsync();
        foreach (var database in databases) await database.DisposeAsync();
        return 0;
    }
}
