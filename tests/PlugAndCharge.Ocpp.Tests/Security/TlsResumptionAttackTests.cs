using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.X509;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Security;

/// <summary>
/// TLS session resumption (on by default in .NET's server SslStream on OpenSSL: a session cache and TLS 1.3 tickets per
/// listener certificate) with security profile 3: a resumed session carries the client certificate of the handshake
/// that made it, and every WebSocket upgrade checks that certificate against the station of the URL again (CN, binding
/// to the station under its current CPO, chain, revocation). So a reconnect resumes, and resumption skips no check: a
/// session made by one station's certificate does not log in another station, nor the same station once its
/// certificate's binding no longer holds. openssl s_client plays the station (-sess_out, then -sess_in).
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class TlsResumptionAttackTests(OcppServerFixture server) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pnc-tls-resume").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_reconnecting_station_resumes_its_session_and_the_resumed_session_logs_in_only_the_station_its_certificate_is_bound_to()
    {
        var a = await server.RegisterStationAsync(SecurityProfile.TlsWithClientCertificate);
        var b = await server.RegisterStationAsync(SecurityProfile.TlsWithClientCertificate);
        var (certA, keyA) = await BoundCertificateFilesAsync(a);
        await BoundCertificateFilesAsync(b);
        var session = Path.Combine(_dir, "a.session");

        var first = await UpgradeAsync(a, certA, keyA, sessionOut: session);
        Assert.Contains("HTTP/1.1 101", first);
        Assert.Contains("New, TLS", first);
        Assert.True(File.Exists(session), first);

        // The honest reconnect: resumed (no certificate exchanged again) and logged in with the certificate of the session.
        var again = await UpgradeAsync(a, null, null, sessionIn: session);
        Assert.Contains("Reused, TLS", again);
        Assert.Contains("HTTP/1.1 101", again);

        // Station A's session, presented for station B: resumed at the TLS layer, refused at the upgrade.
        var asOther = await UpgradeAsync(b, null, null, sessionIn: session);
        Assert.Contains("Reused, TLS", asOther);
        Assert.Contains("HTTP/1.1 403", asOther);

        // The station moved to another CPO since: its certificate's binding no longer holds, resumed or not.
        var station = (await server.Stations.FindAsync(a))!;
        await server.Stations.SaveAsync(station with { CpoId = OcppServerFixture.OtherCpoId, CpoOrganization = OcppServerFixture.OtherOrganization });
        var afterMove = await UpgradeAsync(a, null, null, sessionIn: session);
        Assert.Contains("Reused, TLS", afterMove);
        Assert.Contains("HTTP/1.1 403", afterMove);
    }

    [Fact]
    public async Task A_session_made_without_a_client_certificate_does_not_log_in_a_profile_3_station()
    {
        var p2 = await server.RegisterStationAsync();
        var p3 = await server.RegisterStationAsync(SecurityProfile.TlsWithClientCertificate);
        await BoundCertificateFilesAsync(p3);
        var session = Path.Combine(_dir, "p2.session");

        var first = await UpgradeAsync(p2, null, null, sessionOut: session, basicPassword: OcppServerFixture.Password);
        Assert.Contains("HTTP/1.1 101", first);
        var resumed = await UpgradeAsync(p3, null, null, sessionIn: session);
        Assert.Contains("Reused, TLS", resumed);
        Assert.Contains("HTTP/1.1 401", resumed);
    }

    private async Task<(string Cert, string Key)> BoundCertificateFilesAsync(string stationId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = await server.Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "ocpp/charging-station", IssuerId = "iso2-cpo-subca2", PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
            Subject = DistinguishedNames.Parse($"CN={stationId},O={OcppServerFixture.Organization}"), Actor = "test",
        });
        await server.BindClientCertificateAsync(stationId, issued);
        var cert = Path.Combine(_dir, stationId + ".crt");
        var keyFile = Path.Combine(_dir, stationId + ".key");
        await File.WriteAllTextAsync(cert, OcppServerFixture.ChainPem(issued));
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (cert, keyFile);
    }

    /// <summary>
    /// One TLS connection with openssl s_client and a WebSocket upgrade for <paramref name="stationId"/>; returns s_client's
    /// output (session summary and the HTTP answer) once the status line has arrived.
    /// </summary>
    private async Task<string> UpgradeAsync(string stationId, string? cert, string? key, string? sessionOut = null, string? sessionIn = null, string? basicPassword = null)
    {
        var endpoint = new Uri(server.Endpoint.Replace("wss://", "https://"));
        var psi = new ProcessStartInfo("openssl") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "s_client", "-connect", $"127.0.0.1:{endpoint.Port}", "-ign_eof" }) psi.ArgumentList.Add(arg);
        if (cert != null) { psi.ArgumentList.Add("-cert"); psi.ArgumentList.Add(cert); psi.ArgumentList.Add("-key"); psi.ArgumentList.Add(key!); }
        if (sessionOut != null) { psi.ArgumentList.Add("-sess_out"); psi.ArgumentList.Add(sessionOut); }
        if (sessionIn != null) { psi.ArgumentList.Add("-sess_in"); psi.ArgumentList.Add(sessionIn); }
        using var p = Process.Start(psi)!;
        var output = new StringBuilder();
        var status = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null) { status.TrySetResult(); return; }
            lock (output) output.AppendLine(e.Data);
            if (e.Data.StartsWith("HTTP/1.1 ", StringComparison.Ordinal)) status.TrySetResult();
        };
        p.BeginOutputReadLine();
        var auth = basicPassword == null ? "" : "Authorization: Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{stationId}:{basicPassword}")) + "\r\n";
        await p.StandardInput.WriteAsync(
            $"GET {endpoint.AbsolutePath}/{stationId} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n{auth}\r\n");
        await p.StandardInput.FlushAsync();
        await Task.WhenAny(status.Task, Task.Delay(TimeSpan.FromSeconds(15)));
        // Give a TLS 1.3 ticket that follows the answer a moment to be written to -sess_out.
        await Task.Delay(200);
        p.Kill();
        await p.WaitForExitAsync();
        lock (output) return output.ToString();
    }
}
