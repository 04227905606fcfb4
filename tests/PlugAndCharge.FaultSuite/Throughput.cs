using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;

namespace PlugAndCharge.FaultSuite;

/// <summary>
/// Installations per second (CCP, closed loop with many callers) through one instance and through HAProxy to both:
/// coordination between instances must not cost throughput (issue 22's goal: two at least as fast as one). Three
/// arrangements, measured in turns after a common warm-up so that neither gets the other's JIT tiering or a quieter
/// minute of the machine: one instance directly; one instance behind HAProxy (the other out of rotation), which is the
/// same path as two minus the second instance; two behind HAProxy. Also the CPU each process spent per installation,
/// which tells coordination costs (more CPU per installation) from the machine's 2 cores being shared differently.
/// </summary>
public static class Throughput
{
    public static async Task<int> RunAsync(ClusterControl cluster, World world, int seconds, int callers, int rounds, TextWriter log)
    {
        // Both instances take load before anything is measured: under this load each instance's JIT recompiles about
        // 900 methods per 10 s for the first 100 s (tiered compilation with dynamic PGO; dotnet-counters' jit counters),
        // and a measurement during that time pays up to 0.1 ms per installation for it.
        await MeasureAsync(cluster, world, cluster.ParticipantUrl, 120, callers, log);
        var direct = new List<Measured>();
        var oneBehind = new List<Measured>();
        var two = new List<Measured>();
        async Task Direct() => direct.Add(await MeasureAsync(cluster, world, cluster.InstanceHttpsUrl("a"), seconds, callers, log));
        async Task OneBehind()
        {
            await cluster.SetInRotationAsync("b", false);
            try { oneBehind.Add(await MeasureAsync(cluster, world, cluster.ParticipantUrl, seconds, callers, log)); }
            finally { await cluster.SetInRotationAsync("b", true); }
        }
        async Task Two() => two.Add(await MeasureAsync(cluster, world, cluster.ParticipantUrl, seconds, callers, log));
        // Every other round in the reverse order, so that a drift of the machine does not favour one arrangement.
        for (var round = 0; round < rounds; round++)
            foreach (var measure in round % 2 == 0 ? new[] { Direct, OneBehind, Two } : [Two, OneBehind, Direct]) await measure();
        Console.WriteLine($"throughput ({callers} callers, {rounds} rounds of {seconds} s each, installations/s per round):");
        Console.WriteLine($"  one instance directly:       {Rates(direct)}");
        Console.WriteLine($"  one instance behind HAProxy: {Rates(oneBehind)}");
        Console.WriteLine($"  two behind HAProxy:          {Rates(two)}");
        Console.WriteLine($"  ratio two / one behind HAProxy {Ratio(two, oneBehind)}, two / one directly {Ratio(two, direct)}");
        Console.WriteLine($"CPU per installation (ms), mean of the rounds: {string.Join(", ", two[0].CpuPerInstallation.Keys)}; cores busy");
        Console.WriteLine($"  one instance directly:       {Format(direct)}");
        Console.WriteLine($"  one instance behind HAProxy: {Format(oneBehind)}");
        Console.WriteLine($"  two behind HAProxy:          {Format(two)}");
        return 0;
    }

    private static string Rates(List<Measured> runs) => string.Join(", ", runs.Select(m => m.Rate.ToString("0", CultureInfo.InvariantCulture)));

    private static string Ratio(List<Measured> a, List<Measured> b) =>
        (a.Sum(m => m.Rate) / b.Sum(m => m.Rate)).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Format(List<Measured> runs) =>
        string.Join(", ", runs[0].CpuPerInstallation.Keys.Select(k => runs.Average(m => m.CpuPerInstallation[k]).ToString("0.000", CultureInfo.InvariantCulture)))
        + $"; {runs.Average(m => m.CoresBusy).ToString("0.00", CultureInfo.InvariantCulture)}";

    private sealed record Measured(double Rate, Dictionary<string, double> CpuPerInstallation, double CoresBusy);

    private static async Task<Measured> MeasureAsync(ClusterControl cluster, World world, string baseUrl, int seconds, int callers, TextWriter log)
    {
        using var client = HttpStream.Client(baseUrl, cluster.TlsCa, world.CpoCertificate);
        var failed = 0;
        async Task<int> Caller(int c, CancellationToken stop)
        {
            var ok = 0;
            for (var i = c; !stop.IsCancellationRequested; i += callers)
            {
                var car = world.Cars[i % world.Cars.Count];
                try
                {
                    using var r = await client.PostAsJsonAsync("/v1/ccp/signedContractData", new { certificateInstallationReq = Convert.ToBase64String(car.InstallationRequest), xsdMsgDefNamespace = "urn:iso:15118:2:2013:MsgDef" }, CancellationToken.None);
                    if (r.IsSuccessStatusCode) ok++;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { Interlocked.Increment(ref failed); }
            }
            return ok;
        }
        // Connections open and TLS sessions established before the clock starts.
        using (var warm = new CancellationTokenSource(TimeSpan.FromSeconds(3))) await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Caller(c, warm.Token)));

        // Listed again at the end: PostgreSQL starts a backend per new connection.
        var processes = new Dictionary<string, Func<List<int>>>
        {
            ["instance a"] = () => [cluster.InstancePid("a")], ["instance b"] = () => [cluster.InstancePid("b")],
            ["PostgreSQL"] = cluster.PostgresPids, ["HAProxy"] = cluster.HaproxyPids, ["load generator"] = () => [Environment.ProcessId],
        };
        var before = processes.Values.SelectMany(list => list()).Distinct().ToDictionary(pid => pid, pid => ClusterControl.CpuTime([pid]));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();
        var total = (await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Caller(c, stop.Token)))).Sum();
        var elapsed = clock.Elapsed;
        var cpu = processes.ToDictionary(p => p.Key, p => p.Value().Sum(pid => (ClusterControl.CpuTime([pid]) - before.GetValueOrDefault(pid)).TotalMilliseconds));
        var all = cpu.Values.Sum();
        var perInstallation = cpu.ToDictionary(p => p.Key, p => p.Value / Math.Max(1, total));
        perInstallation["all"] = all / Math.Max(1, total);
        var rate = total / elapsed.TotalSeconds;
        log.WriteLine($"throughput via {baseUrl}: {total} installations in {elapsed.TotalSeconds:0.0} s = {rate:0}/s ({failed} failed, warm-up included; cores busy {all / elapsed.TotalMilliseconds:0.00})");
        return new Measured(rate, perInstallation, all / elapsed.TotalMilliseconds);
    }
}
