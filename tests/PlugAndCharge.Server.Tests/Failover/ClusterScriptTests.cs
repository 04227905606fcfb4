using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Xunit;

namespace PlugAndCharge.Server.Tests.Failover;

/// <summary>
/// scripts/cluster.sh end to end: PostgreSQL, two `pnc serve` instances and HAProxy in TCP pass-through; a participant
/// reaches the API through HAProxy with its client certificate (mutual TLS end to end), and SIGTERM stops everything.
/// </summary>
public sealed class ClusterScriptTests
{
    [DllImport("libc.so.6", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [Fact]
    public async Task Cluster_script_serves_participants_through_haproxy_with_mutual_tls_and_stops_on_sigterm()
    {
        var home = OpenSsl.TempDir();
        var basePort = FreeConsecutivePorts(8);
        // The pnc executable the test project's build produced (the project reference builds it in this configuration).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var pnc = Path.Combine(TestPaths.RepoRoot, "src", "PlugAndCharge.Cli", "bin", configuration, "net10.0", "pnc");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        psi.ArgumentList.Add("scripts/cluster.sh");
        psi.Environment["PNC_CLUSTER_HOME"] = home;
        psi.Environment["PNC_CLUSTER_PORT_BASE"] = basePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["PNC_CLI"] = pnc;
        foreach (var v in new[] { "PNC_DATABASE", "PNC_HOME", "PNC_TLS_CERT", "PNC_TLS_KEY", "PNC_OCPI_BASE_URL", "PNC_PUBLIC_URL", "PNC_KEY_PASSPHRASE" }) psi.Environment.Remove(v);
        using var script = Process.Start(psi)!;
        var stderr = new StringBuilder();
        script.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
        script.BeginErrorReadLine();
        try
        {
            var ready = new TaskCompletionSource();
            var output = new StringBuilder();
            script.OutputDataReceived += (_, e) =>
            {
                if (e.Data == null) { ready.TrySetException(new Exception("cluster.sh ended before it was ready")); return; }
                lock (output) output.AppendLine(e.Data);
                if (e.Data.StartsWith("cluster ready", StringComparison.Ordinal)) ready.TrySetResult();
            };
            script.BeginOutputReadLine();
            try { await ready.Task.WaitAsync(TimeSpan.FromSeconds(90)); }
            catch (Exception e)
            {
                // The script's own one-line reason (HAProxy not installable, PostgreSQL missing, ...) is the failure message.
                await Task.Delay(200);
                string reason;
                lock (stderr) reason = stderr.ToString().Split('\n').LastOrDefault(l => l.StartsWith("cluster:", StringComparison.Ordinal)) ?? stderr.ToString();
                Assert.Fail($"scripts/cluster.sh did not come up ({e.Message}): {reason.Trim()}");
            }

            // HAProxy's own checks (GET /health/live on each instance) report both backends UP on both fronts.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var stats = await http.GetStringAsync($"http://127.0.0.1:{basePort + 7}/;csv");
            var up = stats.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, "^instances_https?,[ab],.*,UP,.*,(\\* )?L7OK,")).ToList();
            Assert.True(up.Count == 4, "HAProxy does not report both instances UP after a passed /health/live check:\n" + stats); // a and b, both fronts
            for (var i = 0; i < 2; i++) // round robin: both instances answer through the public front
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{basePort}/health/ready")).StatusCode);

            // A participant call through HAProxy: the instance, not HAProxy, verifies the client certificate.
            using var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(home, "tls", "ca.crt"));
            using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(home, "pnc", "participants", "admin.crt"), Path.Combine(home, "pnc", "participants", "admin.key"));
            using var admin = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            foreach (var (certificate, expected) in new[] { (admin, HttpStatusCode.OK), (admin, HttpStatusCode.OK), ((X509Certificate2?)null, HttpStatusCode.Unauthorized) })
            {
                using var client = MutualTlsClient(ca, certificate);
                var response = await client.GetAsync($"https://127.0.0.1:{basePort + 1}/v1/participants");
                Assert.Equal(expected, response.StatusCode);
            }

            // Round robin: each instance served participant connections (HAProxy's stot, sessions per server).
            var sessions = (await http.GetStringAsync($"http://127.0.0.1:{basePort + 7}/;csv")).Split('\n')
                .Select(l => l.Split(',')).Where(f => f.Length > 7 && f[0] == "instances_https" && f[1] is "a" or "b").ToDictionary(f => f[1], f => int.Parse(f[7], System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(sessions.GetValueOrDefault("a") > 0 && sessions.GetValueOrDefault("b") > 0, $"sessions per instance: {string.Join(", ", sessions)}");

            Assert.Equal(0, Kill(script.Id, 15));
            Assert.True(script.WaitForExit(TimeSpan.FromSeconds(20)), "cluster.sh did not stop within 20 s of SIGTERM");
            for (var p = basePort; p < basePort + 8; p++)
                Assert.True(PortIsFree(p), $"port {p} is still in use after the cluster stopped");
        }
        finally
        {
            if (!script.HasExited) { Kill(script.Id, 15); script.WaitForExit(TimeSpan.FromSeconds(20)); }
            try { Directory.Delete(home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static HttpClient MutualTlsClient(X509Certificate2 serverCa, X509Certificate2? clientCertificate)
    {
        var client = Hosting.ServiceFixture.MutualTlsClient(serverCa, clientCertificate);
        client.Timeout = TimeSpan.FromSeconds(10);
        return client;
    }

    private static int FreeConsecutivePorts(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var start = Random.Shared.Next(20000, 30000);
            if (Enumerable.Range(start, count).All(PortIsFree)) return start;
        }
        throw new InvalidOperationException($"No {count} consecutive free loopback ports found.");
    }

    private static bool PortIsFree(int port)
    {
        try
        {
            using var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            return true;
        }
        catch (SocketException) { return false; }
    }
}
