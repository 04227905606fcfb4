using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using PlugAndCharge.Samples.Roaming;

namespace PlugAndCharge.FaultSuite;

/// <summary>One HTTP request of a stream; returns null when the answer is what a participant expects, else how it failed.</summary>
public delegate Task<string?> HttpProbe(HttpClient client, long index, CancellationToken ct);

/// <summary>
/// Requests at a fixed rate, scheduled open loop (a slow answer does not slow the schedule, as with independent callers),
/// through HAProxy. Each outcome counts in the second its request was scheduled.
/// </summary>
public sealed class HttpStream(string name, double rate, HttpClient client, HttpProbe probe, LoadStats stats)
{
    private const int MaxInFlight = 4000;
    private int _inFlight;

    public string Name => name;

    public async Task RunAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var startUnix = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long sent = 0;
        while (!stop.IsCancellationRequested)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * rate);
            for (; sent < due; sent++)
            {
                var second = (startUnix + (long)(sent * 1000 / rate)) / 1000;
                stats.Sent(name, second);
                if (Volatile.Read(ref _inFlight) >= MaxInFlight) { stats.Outcome(name, second, 0, "not sent: too many in flight"); continue; }
                Interlocked.Increment(ref _inFlight);
                _ = OneAsync(sent, second);
            }
            try { await Task.Delay(2, stop); } catch (OperationCanceledException) { break; }
        }
    }

    private async Task OneAsync(long index, long second)
    {
        var t0 = Stopwatch.GetTimestamp();
        string? failure;
        try { failure = await probe(client, index, CancellationToken.None); }
        catch (TaskCanceledException) { failure = "no answer within 30 s"; }
        catch (HttpRequestException e) { failure = "connection: " + (e.HttpRequestError.ToString()); }
        catch (Exception e) { failure = "error: " + e.GetType().Name; }
        stats.Outcome(name, second, Stopwatch.GetElapsedTime(t0).TotalMilliseconds, failure);
        Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>How an HTTP answer that is not the expected one failed: 503 problem details, another status, ...</summary>
    public static async Task<string> FailureOf(HttpResponseMessage r)
    {
        var code = (int)r.StatusCode;
        var problem = r.Content.Headers.ContentType?.MediaType == "application/problem+json";
        if (code == 503 && problem) return "503 problem details";
        if (code == 500) return "500 (" + Truncate(await r.Content.ReadAsStringAsync(), 60) + ")";
        return $"{code}{(problem ? " problem details" : "")}";
    }

    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..n];

    /// <summary>
    /// A client that re-opens its connections every few seconds, so HAProxy spreads them over the instances again after
    /// one came back; mutual TLS with the given certificate, the cluster's own CA trusted.
    /// </summary>
    public static HttpClient Client(string baseUrl, X509Certificate2 serverCa, X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // Many independent callers: requests stuck on a fault must not queue the next ones inside this client.
            MaxConnectionsPerServer = 8192,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificateContext = ServiceConnection.ClientContext(clientCertificate),
                CertificateChainPolicy = ServiceConnection.TrustOnly(serverCa),
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }
}
