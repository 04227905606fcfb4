using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
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
/// Issue 21 findings 3 and part of 8, attacked at the OCPP-J WebSocket handshake: a security profile 3 station logs in
/// only with a certificate issued or registered for it (a look-alike from our own CPO Sub-CA is refused and the live
/// station stays connected), and wrong passwords are throttled per source and per station before PBKDF2 runs.
/// </summary>
[Collection(OcppServerCollection.Name)]
public sealed class StationLoginAttackTests(OcppServerFixture server)
{
    private static object Call(string method, object payload) => new { call = method, @params = payload };

    private static string NewId() => "CS-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>A charging station certificate from our CPO Sub-CA 2 (as the CPO's own tooling would get it), not bound to any station.</summary>
    private async Task<(string ChainPem, string KeyPem, IssuedCertificate Issued)> IssueAsync(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = await server.Ca.Issuer.IssueAsync(new IssuanceRequest
        {
            ProfileId = "ocpp/charging-station", IssuerId = "iso2-cpo-subca2", PublicKey = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo()),
            Subject = DistinguishedNames.Parse($"CN={commonName},O={OcppServerFixture.Organization}"), Actor = "test",
        });
        return (OcppServerFixture.ChainPem(issued), key.ExportPkcs8PrivateKeyPem(), issued);
    }

    private Dictionary<string, object?> MutualTls(string stationId, string chainPem, string keyPem, object[] steps)
    {
        var config = server.StationConfig(stationId, "ocpp2.0.1", steps, password: null);
        config["cert"] = chainPem;
        config["key"] = keyPem;
        return config;
    }

    [Fact]
    public async Task A_look_alike_certificate_from_our_CPO_SubCA_issued_to_another_station_is_refused_and_the_live_station_stays()
    {
        // The victim: a profile 3 station, connected with the certificate its CPO registered for it.
        var victim = await server.RegisterStationAsync(SecurityProfile.TlsWithClientCertificate);
        var own = await IssueAsync(victim);
        await server.BindClientCertificateAsync(victim, own.Issued);
        var holding = MutualTls(victim, own.ChainPem, own.KeyPem, [Call("Heartbeat", new { })]);
        holding["holdUntilStdinEnds"] = true;
        await using var live = await NodeStation.StartAsync(holding);
        var liveSession = await server.Connected.WaitForAsync(victim, TimeSpan.FromSeconds(20));
        Assert.NotNull(liveSession);

        // The attacker: another station, whose serial number is the victim's id, gets a certificate with CN = victim over OCPP.
        var attacker = NewId();
        await server.RegisterStationAsync(id: attacker, serial: victim);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signing = await NodeStation.RunAsync(server.StationConfig(attacker, "ocpp2.0.1",
        [
            Call("SignCertificate", new { csr = StationCsrs.Create(victim, OcppServerFixture.Organization, key), certificateType = "ChargingStationCertificate" }),
            new { waitFor = "CertificateSigned" },
        ]));
        Assert.Equal("Accepted", signing.Ok(0).GetProperty("status").GetString());
        var chain = Assert.Single(signing.Received("CertificateSigned")).GetProperty("certificateChain").GetString()!;

        // ... and one straight from our CPO Sub-CA with CN = victim that nobody registered.
        var unbound = await IssueAsync(victim);

        foreach (var (chainPem, keyPem) in new[] { (chain, key.ExportPkcs8PrivateKeyPem()), (unbound.ChainPem, unbound.KeyPem) })
        {
            var run = await NodeStation.RunAsync(MutualTls(victim, chainPem, keyPem, [Call("Heartbeat", new { })]));
            Assert.False(run.Connected, run.ToString());
            Assert.Equal(403, run.RefusedWithStatus);
            // Refused at the handshake: the victim's connection was not replaced.
            Assert.Same(liveSession, server.Connected.Find(victim));
        }

        var report = await live.FinishAsync();
        Assert.True(report.Connected, report.ToString());
        Assert.True(report.Ok(0).TryGetProperty("currentTime", out _));
    }

    [Fact]
    public async Task A_certificate_the_station_got_through_SignCertificate_logs_it_in()
    {
        var id = await server.RegisterStationAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signing = await NodeStation.RunAsync(server.StationConfig(id, "ocpp2.0.1",
        [
            Call("SignCertificate", new { csr = StationCsrs.Create(id, OcppServerFixture.Organization, key), certificateType = "ChargingStationCertificate" }),
            new { waitFor = "CertificateSigned" },
        ]));
        var chain = Assert.Single(signing.Received("CertificateSigned")).GetProperty("certificateChain").GetString()!;

        // The CPO moves the station to security profile 3 (OCPP 2.0.1 A05); its new certificate is its login.
        var station = (await server.Stations.FindAsync(id))!;
        await server.Stations.SaveAsync(station with { SecurityProfile = SecurityProfile.TlsWithClientCertificate, PasswordHash = null });
        var run = await NodeStation.RunAsync(MutualTls(id, chain, key.ExportPkcs8PrivateKeyPem(), [Call("Heartbeat", new { })]));
        Assert.True(run.Connected, run.ToString());
    }

    /// <summary>One OCPP-J upgrade with HTTP Basic credentials from <paramref name="source"/>; the HTTP status it got (101 = connected).</summary>
    private async Task<int> LoginAsync(string stationId, string password, IPAddress source)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        };
        using var invoker = new HttpMessageInvoker(handler);
        using var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        ws.Options.AddSubProtocol("ocpp2.0.1");
        ws.Options.SetRequestHeader("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(stationId + ":" + password)));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await ws.ConnectAsync(new Uri(server.Endpoint + "/" + stationId), invoker, timeout.Token);
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            return 101;
        }
        catch (WebSocketException)
        {
            return (int)ws.HttpStatusCode;
        }
    }

    private async Task<StationRun> HonestLoginFromAsync(string stationId, string source)
    {
        var config = server.StationConfig(stationId, "ocpp2.0.1", [Call("Heartbeat", new { })]);
        config["localAddress"] = source;
        return await NodeStation.RunAsync(config);
    }

    [Fact]
    public async Task A_burst_of_wrong_passwords_is_throttled_per_source_and_per_station_and_the_right_password_works_again()
    {
        var id = await server.RegisterStationAsync();
        const string Wrong = "not-the-password-000";
        var started = System.Diagnostics.Stopwatch.StartNew();

        // One attacker address: refused, then throttled.
        var burst = new List<int>();
        for (var i = 0; i < 8; i++) burst.Add(await LoginAsync(id, Wrong, IPAddress.Parse("127.0.0.3")));
        Assert.Contains(401, burst);
        Assert.True(burst.Contains(429), "no wrong password of the burst was throttled: " + string.Join(",", burst));
        Assert.True(burst.SkipWhile(s => s == 401).All(s => s == 429), string.Join(",", burst));
        var refusedBeforeThrottle = burst.Count(s => s == 401);

        // The station itself, from its own address, still gets in with the right password.
        var honest = await HonestLoginFromAsync(id, "127.0.0.1");
        Assert.True(honest.Connected, honest.ToString());
        Assert.True(honest.Ok(0).TryGetProperty("currentTime", out _));

        // Many attacker addresses: the station's own budget runs out, and then even a fresh address is throttled.
        var spread = new List<int>();
        for (var source = 4; source < 12 && !spread.Contains(429); source++)
            for (var i = 0; i < refusedBeforeThrottle && !spread.Contains(429); i++)
                spread.Add(await LoginAsync(id, Wrong, IPAddress.Parse($"127.0.0.{source}")));
        Assert.True(spread.Contains(429), "the station's budget never ran out: " + string.Join(",", spread));
        Assert.Equal(429, await LoginAsync(id, OcppServerFixture.Password, IPAddress.Parse("127.0.0.20")));
        Assert.Equal(429, await LoginAsync(id, OcppServerFixture.Password, IPAddress.Parse("127.0.0.3")));

        // After the window the right password works again from the throttled address.
        StationRun? again = null;
        while (started.Elapsed < TimeSpan.FromSeconds(40))
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            again = await HonestLoginFromAsync(id, "127.0.0.3");
            if (again.Connected) break;
            Assert.Equal(429, again.RefusedWithStatus);
        }
        Assert.True(again?.Connected, again?.ToString());
    }
}
