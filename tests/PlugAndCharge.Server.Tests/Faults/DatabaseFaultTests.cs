using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Exi;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Faults;

/// <summary>The real host over a PostgreSQL cluster of its own, which the tests crash and lock up (issue 22's fault table).</summary>
public sealed class DatabaseFaultFixture : IAsyncLifetime
{
    public PostgresCluster Cluster { get; private set; } = null!;
    public ServiceFixture Service { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await PostgresCluster.StartAsync();
        Service = new ServiceFixture { AdminConnectionString = Cluster.AdminConnectionString };
        await Service.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Service.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

public sealed class DatabaseFaultTests(DatabaseFaultFixture f, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<DatabaseFaultFixture>
{
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(5), Recovery = TimeSpan.FromSeconds(5);

    private static async Task AssertUnavailableAsync(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(r.Headers.RetryAfter);
        Assert.Contains("\"status\":503", await r.Content.ReadAsStringAsync());
    }

    private async Task AssertAuditChainIntactAsync()
    {
        var verification = await AuditChain.VerifyAsync(f.Service.Ca.Audit.ReadAllAsync());
        Assert.True(verification.Intact, verification.Detail);
    }

    /// <summary>
    /// PostgreSQL crashes (<c>pg_ctl stop -m immediate</c>, the first half of <c>restart -m immediate</c>, held down so
    /// requests meet the outage): every request fails fast with 503 problem details and Retry-After, none hangs or answers
    /// 500; once PostgreSQL is back the same process serves again within 5 s, and the audit chain is intact.
    /// </summary>
    [Fact]
    public async Task A_crashed_database_costs_fast_503s_and_the_service_recovers_by_itself()
    {
        using var http = f.Service.Client(f.Service.AdminCertificate);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/participants")).StatusCode);

        await f.Cluster.KillAsync();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var read = Stopwatch.StartNew();
                await AssertUnavailableAsync(await http.GetAsync("/v1/participants"));
                Assert.True(read.Elapsed < FailFast, $"a read took {read.Elapsed} during the outage");
                var write = Stopwatch.StartNew();
                await AssertUnavailableAsync(await http.PostAsJsonAsync("/v1/participants", new { id = $"outage-{i}", role = "Cpo", identities = new[] { $"DFO0{i}" } }));
                Assert.True(write.Elapsed < FailFast, $"a write took {write.Elapsed} during the outage");
                output.WriteLine($"outage: read 503 in {read.ElapsedMilliseconds} ms, write 503 in {write.ElapsedMilliseconds} ms");
            }
        }
        finally
        {
            await f.Cluster.StartAgainAsync();
        }

        var back = Stopwatch.StartNew();
        HttpResponseMessage r;
        while ((r = await http.GetAsync("/v1/participants")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(back.Elapsed < Recovery, $"still {r.StatusCode} {back.Elapsed} after PostgreSQL returned");
            await Task.Delay(100);
        }
        output.WriteLine($"recovered {back.ElapsedMilliseconds} ms after pg_ctl start returned");
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/v1/participants", new { id = "after-outage", role = "Cpo", identities = new[] { "DFA01" } })).StatusCode);
        await AssertAuditChainIntactAsync();
    }

    /// <summary>
    /// <c>pg_ctl restart -m immediate</c> while the pool holds idle connections, all of which die: the requests after the
    /// restart are all served: a read that meets a dead connection empties the pool and is retried on a fresh one.
    /// </summary>
    [Fact]
    public async Task After_an_immediate_restart_the_pool_of_dead_connections_costs_no_request()
    {
        using var http = f.Service.Client(f.Service.AdminCertificate);
        // Fill the pool with connections that will all be dead after the restart.
        foreach (var r in await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => http.GetAsync("/v1/participants")))) Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        await f.Cluster.RestartAsync();
        var back = Stopwatch.StartNew();
        int served = 0, refused = 0;
        while (served < 20)
        {
            var r = await http.GetAsync("/v1/participants");
            if (r.StatusCode == HttpStatusCode.OK) served++;
            else { await AssertUnavailableAsync(r); refused++; }
            Assert.True(back.Elapsed < Recovery, $"{refused} refused, {served} served {back.Elapsed} after the restart");
        }
        output.WriteLine($"after pg_ctl restart -m immediate: {refused} requests refused with 503 before 20 were served, {back.ElapsedMilliseconds} ms");
        Assert.Equal(0, refused); // the reads that met a dead connection were retried on a fresh one
        await AssertAuditChainIntactAsync();
    }

    /// <summary>
    /// A session holds row locks (<c>begin; select ... for update</c> on a participant's client certificate): revoking it
    /// times out within the lock timeout (5 s) with a clear 503 instead of waiting, while reads, the CRL and OCSP for that
    /// very certificate keep answering; once the session ends the revocation goes through.
    /// </summary>
    [Fact]
    public async Task A_session_holding_row_locks_makes_writers_time_out_while_reads_CRL_and_OCSP_keep_serving()
    {
        using var http = f.Service.Client(f.Service.AdminCertificate);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/v1/participants", new { id = "locked", role = "Cpo", identities = new[] { "DFL01" } })).StatusCode);
        using var cert = await f.Service.IssueClientCertificateAsync("locked");
        var fingerprint = Participants.ParticipantDirectory.Fingerprint(cert.RawData);
        var ocspRequest = OcspRequest(cert);
        var ocspBefore = await PostOcspAsync(http, ocspRequest);
        Assert.Equal(HttpStatusCode.OK, ocspBefore.StatusCode);

        await using (var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(f.Service.Db.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await holder.OpenAsync();
            await using var tx = await holder.BeginTransactionAsync();
            await using (var lockRows = new NpgsqlCommand("select 1 from certificates where serial = @s for update; select 1 from participants where id = 'locked' for update", holder, tx))
            {
                lockRows.Parameters.AddWithValue("s", new Org.BouncyCastle.Math.BigInteger(cert.SerialNumber, 16).ToString(16));
                Assert.Equal(1, await lockRows.ExecuteScalarAsync());
            }

            var write = Stopwatch.StartNew();
            var revoke = await http.DeleteAsync($"/v1/participants/locked/credentials/ClientCertificate/{fingerprint}");
            write.Stop();
            output.WriteLine($"locked write: {(int)revoke.StatusCode} in {write.ElapsedMilliseconds} ms");
            await AssertUnavailableAsync(revoke);
            Assert.True(write.Elapsed < TimeSpan.FromSeconds(10), $"the locked write took {write.Elapsed}");

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/participants/locked")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/crl/iso2-mo-subca2.crl")).StatusCode);
            var ocsp = await PostOcspAsync(http, ocspRequest);
            Assert.Equal(HttpStatusCode.OK, ocsp.StatusCode);
            Assert.Equal("application/ocsp-response", ocsp.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/participants/locked/credentials/ClientCertificate/{fingerprint}")).StatusCode);
        await AssertAuditChainIntactAsync();
    }

    /// <summary>
    /// A connected ocpp-rpc station (OCPP 2.0.1, security profile 2) while PostgreSQL is down: Get15118EVCertificate is
    /// answered Failed with reasonCode DatabaseUnavailable and contract provisioning's signed FAILED
    /// CertificateInstallationRes (never an empty exiResponse); Authorize and BootNotification get a CALLERROR
    /// InternalError saying the service is temporarily unavailable, each within a few seconds; a new login gets 503. Once
    /// PostgreSQL is back the same connection (no reconnect) is served again.
    /// </summary>
    [Fact]
    public async Task A_connected_station_gets_OCPP_answers_in_their_own_form_while_the_database_is_down_and_is_served_again_on_the_same_connection()
    {
        const string Password = "a-fault-station-password-01", Iso2 = "urn:iso:15118:2:2013:MsgDef";
        using var admin = f.Service.Client(f.Service.AdminCertificate);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/participants",
            new { id = "cpo-fault", role = "Cpo", identities = new[] { "DFS01" }, organization = "Fault CPO" })).StatusCode);
        using var cpo = f.Service.Client(await f.Service.IssueClientCertificateAsync("cpo-fault"));
        var stationId = "CS-FAULT-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await cpo.PostAsJsonAsync("/v1/ocpp/stations",
            new { stationId, securityProfile = 2, password = Password, serialNumber = "SN-FAULT" })).StatusCode);
        var v2gRoot = (await f.Service.Ca.Authorities.GetAsync("iso2-v2g-root")).Certificate;
        using var car = await VehicleSimulator.CreateAsync(f.Service.Ca, "iso2-oem-subca2", "WMF" + Random.Shared.NextInt64(10_000_000_000_000, 99_999_999_999_999), [v2gRoot]);
        var install = new { iso15118SchemaVersion = Iso2, action = "Install", exiRequest = Convert.ToBase64String(car.BuildInstallationRequest()) };
        var authorize = new { idToken = new { idToken = "DE8AAC99999999", type = "eMAID" } };
        var boot = new { reason = "PowerUp", chargingStation = new { vendorName = "PNC", model = "Fault", serialNumber = "SN-FAULT", firmwareVersion = "1.0" } };

        var connected = f.Service.App.Services.GetRequiredService<ConnectedStations>();
        await using var station = await NodeStation.StartAsync(new Dictionary<string, object?>
        {
            ["endpoint"] = f.Service.HttpsUrl.Replace("https://", "wss://") + "/ocpp", ["identity"] = stationId, ["protocol"] = "ocpp2.0.1",
            ["password"] = Password, ["ca"] = f.Service.ParticipantCa.ExportCertificatePem(), ["strict"] = false, ["callTimeoutMs"] = 30000,
            ["steps"] = new object[]
            {
                new { call = "BootNotification", @params = boot },
                new { signal = "booted" },
                // The database is down from here ...
                new { waitFor = "TriggerMessage", count = 1, timeoutMs = 60000 },
                new { call = "Get15118EVCertificate", @params = install },
                new { call = "Authorize", @params = authorize },
                new { call = "BootNotification", @params = boot },
                new { signal = "outage-done" },
                // ... and back from here, on the same connection.
                new { waitFor = "TriggerMessage", count = 2, timeoutMs = 60000 },
                new { call = "Authorize", @params = authorize },
                new { call = "BootNotification", @params = boot },
                new { call = "Get15118EVCertificate", @params = install },
            },
        });
        await station.WaitForSignalAsync("booted");
        var session = await connected.WaitForAsync(stationId, TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("the station did not connect");

        await f.Cluster.KillAsync();
        try
        {
            var outage = Stopwatch.StartNew();
            await StationCalls.CallAsync<JsonElement>(session, "TriggerMessage", new { requestedMessage = "Heartbeat" }); // the station's cue; needs no database
            await station.WaitForSignalAsync("outage-done", TimeSpan.FromSeconds(60));
            // Three answers, none waiting for the database (a hang would meet the 30 s call timeout of the station).
            Assert.True(outage.Elapsed < 3 * FailFast, $"the three calls during the outage took {outage.Elapsed}");

            // A new login meanwhile: 503 with Retry-After, not 500, not a hang, not a credential refusal.
            var login = Stopwatch.StartNew();
            Assert.Equal(503, await LoginStatusAsync(stationId, Password));
            Assert.True(login.Elapsed < FailFast, $"the login was refused after {login.Elapsed}");
        }
        finally
        {
            await f.Cluster.StartAgainAsync();
        }
        // Back: the HTTP side serves again (which also shows the pool holds live connections), then the station's cue.
        var back = Stopwatch.StartNew();
        while ((await admin.GetAsync("/v1/participants")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(back.Elapsed < Recovery, $"still not serving {back.Elapsed} after PostgreSQL returned");
            await Task.Delay(100);
        }
        await StationCalls.CallAsync<JsonElement>(session, "TriggerMessage", new { requestedMessage = "Heartbeat" });
        var run = await station.FinishAsync();
        output.WriteLine(run.Report.ToString());

        // 0 = the boot before the outage. 1-3 during the outage:
        var evCertificate = run.Ok(1);
        Assert.Equal("Failed", evCertificate.GetProperty("status").GetString());
        Assert.Equal(StorageFaults.ReasonCode, evCertificate.GetProperty("statusInfo").GetProperty("reasonCode").GetString());
        AssertSignedInstallationFailure(v2gRoot, evCertificate.GetProperty("exiResponse").GetString()!);
        foreach (var i in new[] { 2, 3 })
        {
            Assert.Equal("InternalError", run.ErrorCode(i));
            Assert.Contains("temporarily unavailable", run.Result(i).GetProperty("message").GetString());
        }
        foreach (var i in new[] { 1, 2, 3 })
            output.WriteLine($"during the outage, call {i} answered in {run.Result(i).GetProperty("ms").GetDouble():0} ms");
        // 4-6 after PostgreSQL returned, on the same connection: served (this car is not in the pool, so its
        // installation is refused on its merits: signed FAILED_NoCertificateAvailable, not DatabaseUnavailable).
        Assert.Equal(JsonValueKind.Object, run.Ok(4).GetProperty("idTokenInfo").ValueKind);
        Assert.Equal("Accepted", run.Ok(5).GetProperty("status").GetString());
        Assert.NotEqual(StorageFaults.ReasonCode, run.Ok(6).GetProperty("statusInfo").GetProperty("reasonCode").GetString());
        Assert.StartsWith("FAILED", AssertSignedInstallationFailure(v2gRoot, run.Ok(6).GetProperty("exiResponse").GetString()!));
        await AssertAuditChainIntactAsync();
    }

    /// <summary>
    /// The exiResponse decodes (the project's ISO 15118-2 EXI codec) to a CertificateInstallationRes with a FAILED*
    /// ResponseCode, signed by a CPS leaf that chains to the V2G root; returns the ResponseCode.
    /// </summary>
    private static string AssertSignedInstallationFailure(Org.BouncyCastle.X509.X509Certificate v2gRoot, string exiResponse)
    {
        Assert.False(string.IsNullOrEmpty(exiResponse), "an empty exiResponse");
        var message = ExiSchema.Iso2.Decode(Convert.FromBase64String(exiResponse));
        var res = message.Element("Body")!.Element("CertificateInstallationRes")!;
        var code = res.Element("ResponseCode")!.Text!;
        Assert.StartsWith("FAILED", code);
        var chain = res.Element("SAProvisioningCertificateChain")!;
        var cpsLeaf = CertificateFacts.Read(chain.Element("Certificate")!.Value.AsBytes(), "CPS leaf");
        var cpsSubs = chain.Element("SubCertificates")!.Elements().Select(e => e.Value.AsBytes()).ToList();
        PlugAndCharge.Tests.OpenSsl.Verify(v2gRoot.GetEncoded(), cpsSubs, cpsLeaf.GetEncoded());
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(cpsLeaf.SubjectPublicKeyInfo.GetEncoded(), out _);
        Assert.True(ExiSignature.Verify(ExiSchema.Iso2, message, key).IsValid);
        return code;
    }

    /// <summary>One OCPP-J upgrade with HTTP Basic credentials; the HTTP status it got (101 = connected).</summary>
    private async Task<int> LoginStatusAsync(string stationId, string password)
    {
        using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } };
        using var invoker = new HttpMessageInvoker(handler);
        using var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        ws.Options.AddSubProtocol("ocpp2.0.1");
        ws.Options.SetRequestHeader("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(stationId + ":" + password)));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await ws.ConnectAsync(new Uri(f.Service.HttpsUrl.Replace("https://", "wss://") + "/ocpp/" + stationId), invoker, timeout.Token);
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            return 101;
        }
        catch (WebSocketException)
        {
            return (int)ws.HttpStatusCode;
        }
    }

    private byte[] OcspRequest(System.Security.Cryptography.X509Certificates.X509Certificate2 cert)
    {
        var issuer = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(f.Service.ParticipantCa.RawData);
        var id = new Org.BouncyCastle.Ocsp.CertificateID(new Org.BouncyCastle.Asn1.X509.AlgorithmIdentifier(
            new Org.BouncyCastle.Asn1.DerObjectIdentifier("1.3.14.3.2.26"), Org.BouncyCastle.Asn1.DerNull.Instance), issuer,
            new Org.BouncyCastle.Math.BigInteger(cert.SerialNumber, 16));
        var generator = new Org.BouncyCastle.Ocsp.OcspReqGenerator();
        generator.AddRequest(id);
        return generator.Generate().GetEncoded();
    }

    private static Task<HttpResponseMessage> PostOcspAsync(HttpClient http, byte[] request)
    {
        var content = new ByteArrayContent(request);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        return http.PostAsync($"/ocsp/{Participants.ParticipantDirectory.ParticipantCaId}", content);
    }
}
