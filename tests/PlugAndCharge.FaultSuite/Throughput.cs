using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;

namespace PlugAndCharge.FaultSuite;

/// <summary>
/// Installations per second (CCP, closed loop with many callers) through one instance directly, then through HAProxy to
/// both: coordination between instances must not cost throughput (issue 22's goal: two at least as fast as one). Also
/// the CPU each process spent per installation, which tells coordination costs (more CPU per installation) from the
/// machine's 2 cores being shared differently (the same CPU, spread over two processes).
/// </summary>
public static class Throughput
{
    public static async Task<int> RunAsync(ClusterControl cluster, World world, int seconds, int callers, TextWriter log)
    {
        var single = await MeasureAsync(cluster, world, cluster.InstanceHttpsUrl("a"), seconds, callers, log);
        var both = await MeasureAsync(cluster, world, cluster.ParticipantUrl, seconds, callers, log);
        Console.WriteLine($"throughput ({callers} callers, {seconds} s): one instance {single.Rate:0} installations/s, two behind HAProxy {both.Rate:0} installations/s (ratio {both.Rate / single.Rate:0.00})");
        Console.WriteLine($"CPU per installation (ms)  {string.Join(", ", single.CpuPerInstallation.Keys)}; cores busy");
        Console.WriteLine($"  one instance:            {Format(single)}");
        Console.WriteLine($"  two behind HAProxy:      {Format(both)}");
        return 0;
    }

    private static string Format(Measured m) =>
        string.Join(", ", m.CpuPerInstallation.Values.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture))) + $"; {m.CoresBusy.ToString("0.00", CultureInfo.InvariantCulture)}";

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
        using (var warm = new CancellationTokenSource(TimeSpan.FromSeconds(5))) await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Caller(c, warm.Token)));

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
        log.WriteLine($"throughput via {baseUrl}: {total} installations in {elapsed.TotalSeconds:0.0} s = {rate:0}/s ({failed} failed, warm-up included)");
        return new Measured(rate, perInstallation, all / elapsed.TotalMilliseconds);
    }
}
