using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Ocpp.Tests.Infrastructure;

/// <summary>
/// `openssl ocsp` as a real OCSP responder on a loopback port (an independent implementation of RFC 6960), answering
/// from an index of issued and revoked certificates as `openssl ca` keeps it.
/// </summary>
public sealed class OpensslOcspResponder : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    public string Url { get; }

    private OpensslOcspResponder(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Url = $"http://127.0.0.1:{port}/ocsp";
    }

    public sealed record Entry(X509Certificate Certificate, DateTimeOffset? RevokedAt);

    public static async Task<OpensslOcspResponder> StartAsync(X509Certificate ca, X509Certificate signer, string signerKeyPem, IEnumerable<Entry> entries)
    {
        var dir = Directory.CreateTempSubdirectory("pnc-ocsp").FullName;
        static string Pem(X509Certificate c) => PemEncoding.WriteString("CERTIFICATE", c.GetEncoded()) + "\n";
        await File.WriteAllTextAsync(Path.Combine(dir, "ca.pem"), Pem(ca));
        await File.WriteAllTextAsync(Path.Combine(dir, "signer.pem"), Pem(signer));
        await File.WriteAllTextAsync(Path.Combine(dir, "signer.key"), signerKeyPem);
        await File.WriteAllTextAsync(Path.Combine(dir, "index.txt"), string.Concat(entries.Select(IndexLine)));
        var port = FreePort();
        var psi = new ProcessStartInfo("openssl", ["ocsp", "-index", "index.txt", "-port", port.ToString(CultureInfo.InvariantCulture), "-CA", "ca.pem",
            "-rsigner", "signer.pem", "-rkey", "signer.key", "-nmin", "10", "-ignore_err"])
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        var process = new Process { StartInfo = psi };
        // A bare TCP probe would wedge the single-threaded responder: wait for it to say it listens instead.
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Watch(object _, DataReceivedEventArgs e)
        {
            if (e.Data != null && (e.Data.Contains("ACCEPT", StringComparison.Ordinal) || e.Data.Contains("waiting for OCSP client", StringComparison.Ordinal))) listening.TrySetResult();
        }
        process.OutputDataReceived += Watch;
        process.ErrorDataReceived += Watch;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var responder = new OpensslOcspResponder(process, dir, port);
        if (await Task.WhenAny(listening.Task, Task.Delay(TimeSpan.FromSeconds(10))) != listening.Task)
        {
            await responder.DisposeAsync();
            throw new InvalidOperationException("openssl ocsp did not start.");
        }
        return responder;
    }

    /// <summary>A line of openssl's CA index: status, expiry, revocation time, serial (upper-case hex, whole bytes), file, subject.</summary>
    private static string IndexLine(Entry e)
    {
        static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyMMddHHmmss'Z'", CultureInfo.InvariantCulture);
        var serial = e.Certificate.SerialNumber.ToString(16).ToUpperInvariant();
        if (serial.Length % 2 == 1) serial = "0" + serial;
        var subject = "/" + e.Certificate.SubjectDN.ToString().Replace(",", "/");
        var expiry = Time(new DateTimeOffset(e.Certificate.NotAfter, TimeSpan.Zero));
        return e.RevokedAt is { } r
            ? $"R\t{expiry}\t{Time(r)}\t{serial}\tunknown\t{subject}\n"
            : $"V\t{expiry}\t\t{serial}\tunknown\t{subject}\n";
    }

    private static int FreePort()
    {
        var l = new TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_dir, true);
    }
}
