using System.Diagnostics;
using System.Globalization;

namespace PlugAndCharge.Benchmarks.Contracts;

/// <summary>
/// Open-loop load: installations offered at a fixed rate whether or not earlier ones have completed (a closed loop
/// slows its offers down when the service does and hides queueing). Latency counts from each installation's scheduled
/// start, so time spent waiting behind a late scheduler or a full pool is included.
/// `install-rate RATE SECONDS [WARMUP_SECONDS] [VEHICLES]`, persisted when PNC_BENCH_DATABASE is set. VEHICLES (default
/// 256) are used round robin; RATE x (SECONDS + WARMUP_SECONDS) of them gives every installation its own vehicle.
/// PNC_BENCH_SECONDS=1 adds p50/p99 per second, which tells a stall (autovacuum, a checkpoint) from a steady tail.
/// </summary>
public static class InstallationRate
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rate = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
        var warmup = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        var vehicles = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 256;
        var setup = Stopwatch.StartNew();
        await using var world = await InstallationWorld.OpenAsync(vehicles);
        GC.Collect();
        // Progress on stderr, so a profiler can be attached to the measured window only.
        Console.Error.WriteLine($"world of {vehicles} vehicles ready in {setup.Elapsed.TotalSeconds:F0} s; warming up for {warmup} s, then measuring for {seconds} s");

        // Warm-up at the same rate (JIT tiers, pools, caches); its latencies are not reported.
        await OfferAsync(world, rate, warmup, 0);
        var me = Process.GetCurrentProcess();
        var cpu = me.TotalProcessorTime;
        var (pause, gen0, gen1, gen2) = (GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var allocated = GC.GetTotalAllocatedBytes();
        var run = await OfferAsync(world, rate, seconds, rate * warmup);
        me.Refresh();

        var done = run.Latencies.Where(l => l >= 0).Order().ToArray();
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        static long At(long[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1))];
        double Percentile(double p) => done.Length == 0 ? double.NaN : Ms(At(done, p));
        Console.WriteLine($"offered {rate}/s for {seconds} s ({(world.Persisted ? "persisted" : "in memory")}, {vehicles} vehicles): completed {done.Length} of {run.Latencies.Length}, {run.Failures} failed, " +
            $"achieved {done.Length / run.Elapsed.TotalSeconds:F0}/s over {run.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"latency from scheduled start: p50 {Percentile(0.50):F1} ms, p90 {Percentile(0.90):F1} ms, p99 {Percentile(0.99):F1} ms, max {(done.Length > 0 ? Ms(done[^1]) : double.NaN):F1} ms; " +
            $"this process {(me.TotalProcessorTime - cpu).TotalMicroseconds / Math.Max(1, done.Length):F0} us CPU each");
        Console.WriteLine($"garbage collection: {(GC.GetTotalPauseDuration() - pause).TotalMilliseconds:F0} ms paused in {GC.CollectionCount(0) - gen0} gen0, " +
            $"{GC.CollectionCount(1) - gen1} gen1, {GC.CollectionCount(2) - gen2} gen2 collections; " +
            $"{(GC.GetTotalAllocatedBytes() - allocated) / Math.Max(1, done.Length) / 1024} KiB allocated per installation");
        if (Environment.GetEnvironmentVariable("PNC_BENCH_SECONDS") == "1")
            for (var sec = 0; sec < seconds; sec++)
            {
                var slice = run.Latencies.Skip(sec * rate).Take(rate).Where(l => l >= 0).Order().ToArray();
                if (slice.Length > 0) Console.WriteLine($"  second {sec}: p50 {Ms(At(slice, 0.50)):F0} p99 {Ms(At(slice, 0.99)):F0} max {Ms(slice[^1]):F0}");
            }
        return run.Failures == 0 ? 0 : 1;
    }

    private sealed record Run(long[] Latencies, int Failures, TimeSpan Elapsed);

    /// <summary>
    /// Starts installation i at start + i/rate (or at once when the scheduler is late) and waits for all of them. The
    /// scheduler is a thread of its own: on the thread pool its 1 ms waits took 2-3 ms under load, so installations
    /// started late and the generator's own lag counted as their latency.
    /// </summary>
    private static async Task<Run> OfferAsync(InstallationWorld world, int rate, int seconds, int firstRequest)
    {
        var total = rate * seconds;
        var latencies = new long[total];
        Array.Fill(latencies, -1);
        var failures = 0;
        var pending = new Task[total];
        var clock = Stopwatch.StartNew();
        var start = Stopwatch.GetTimestamp();
        long Scheduled(int n) => start + (long)((double)n * Stopwatch.Frequency / rate);
        var offered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            for (var i = 0; i < total;)
            {
                var due = Math.Min(total, (int)((double)(Stopwatch.GetTimestamp() - start) * rate / Stopwatch.Frequency) + 1);
                for (; i < due; i++)
                {
                    var n = i;
                    pending[n] = Task.Run(async () =>
                    {
                        try
                        {
                            await world.InstallAsync(firstRequest + n);
                            latencies[n] = Stopwatch.GetTimestamp() - Scheduled(n);
                        }
                        catch (Exception e)
                        {
                            if (Interlocked.Increment(ref failures) <= 3) Console.Error.WriteLine($"installation {n}: {e.GetType().Name}: {e.Message}");
                        }
                    });
                }
                if (i < total && Scheduled(i) - Stopwatch.GetTimestamp() > 0) Thread.Sleep(1);
            }
            offered.SetResult();
        }) { IsBackground = true, Name = "load-scheduler" }.Start();
        await offered.Task;
        await Task.WhenAll(pending);
        return new Run(latencies, failures, clock.Elapsed);
    }
}
