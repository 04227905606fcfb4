using System.Diagnostics;
using System.Net.Http.Json;

namespace PlugAndCharge.FaultSuite;

/// <summary>
/// Installations per second (CCP, closed loop with many callers) through one instance directly, then through HAProxy to
/// both: coordination between instances must not cost throughput (issue 22's goal: two at least as fast as one).
/// </summary>
public static class Throughput
{
    public static async Task<int> RunAsync(ClusterControl cluster, World world, int seconds, TextWriter log)
    {
        var single = await MeasureAsync(cluster, world, cluster.InstanceHttpsUrl("a"), seconds, log);
        var both = await MeasureAsync(cluster, world, cluster.ParticipantUrl, seconds, log);
        Console.WriteLine($"throughput: one instance {single:0} installations/s, two behind HAProxy {both:0} installations/s (ratio {both / single:0.00})");
        return 0;
    }

    private static async Task<double> MeasureAsync(ClusterControl cluster, World world, string baseUrl, int seconds, TextWriter log)
    {
        using var client = HttpStream.Client(baseUrl, cluster.TlsCa, world.CpoCertificate);
        var failed = 0;
        async Task<int> Worker(int w, CancellationToken stop)
        {
            var ok = 0;
            for (var i = w; !stop.IsCancellationRequested; i += 64)
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
        using (var warm = new CancellationTokenSource(TimeSpan.FromSeconds(5))) await Task.WhenAll(Enumerable.Range(0, 64).Select(w => Worker(w, warm.Token)));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();
        var total = (await Task.WhenAll(Enumerable.Range(0, 64).Select(w => Worker(w, stop.Token)))).Sum();
        var rate = total / clock.Elapsed.TotalSeconds;
        log.WriteLine($"throughput via {baseUrl}: {total} installations in {clock.Elapsed.TotalSeconds:0.0} s = {rate:0}/s ({failed} failed, warm-up included)");
        return rate;
    }
}
