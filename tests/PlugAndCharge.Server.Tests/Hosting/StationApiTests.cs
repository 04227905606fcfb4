using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PlugAndCharge.Ocpp;
using PlugAndCharge.Ocpp.Stations;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Ocpp.Transport;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Stores;
using Xunit;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>
/// The OCPP station REST of the real host, over HTTPS with participant client certificates (mutual TLS), against
/// charging stations played by the npm client ocpp-rpc (tests/PlugAndCharge.Ocpp.Tests/client) that connect to the same
/// host's /ocpp/{stationId} with HTTP Basic auth (security profile 2) and the password registered over REST.
/// </summary>
public sealed class StationApiTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    private const string Password = "a-station-password-0123";
    private static int _cpos;

    private static readonly object InstalledIds = new
    {
        status = "Accepted",
        certificateHashDataChain = new[]
        {
            new { certificateType = "V2GRootCertificate", certificateHashData = new { hashAlgorithm = "SHA256", issuerNameHash = new string('a', 64), issuerKeyHash = new string('b', 64), serialNumber = "1f" } },
        },
    };

    private sealed record Cpo(string Id, string Organization, HttpClient Http) : IDisposable
    {
        public void Dispose() => Http.Dispose();
    }

    /// <summary>A CPO participant with its own operator ID, organization and client certificate.</summary>
    private async Task<Cpo> NewCpoAsync()
    {
        var n = Interlocked.Increment(ref _cpos);
        var id = $"cpo-st{n}";
        var organization = $"Station CPO {n} GmbH";
        using var admin = f.Client(f.AdminCertificate);
        var created = await admin.PostAsJsonAsync("/v1/participants", new { id, role = "Cpo", identities = new[] { $"DEQ{n:00}" }, organization });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return new Cpo(id, organization, f.Client(await f.IssueClientCertificateAsync(id)));
    }

    private static string NewStationId() => "CS-" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<JsonElement> Problem(HttpResponseMessage r, HttpStatusCode expected)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }

    private static async Task<JsonElement> Json(HttpResponseMessage r, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static Task<HttpResponseMessage> RegisterAsync(HttpClient http, string stationId, string? password = Password, object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["stationId"] = stationId, ["securityProfile"] = 2, ["password"] = password, ["serialNumber"] = "SN-0001" };
        if (extra != null)
            foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        return http.PostAsJsonAsync("/v1/ocpp/stations", body);
    }

    private async Task<List<AuditEntry>> AuditAsync(string action, string stationId)
    {
        var found = new List<AuditEntry>();
        await foreach (var e in f.Ca.Audit.ReadAllAsync())
            if (e.Action == action && e.Subject == "ocpp-station/" + stationId) found.Add(e);
        return found;
    }

    /// <summary>station.js configuration: this host's wss endpoint, the participant CA as trust anchor, Basic auth.</summary>
    private Dictionary<string, object?> StationConfig(string stationId, string protocol, string? password, object[] steps) => new()
    {
        ["endpoint"] = f.HttpsUrl.Replace("https://", "wss://") + "/ocpp", ["identity"] = stationId, ["protocol"] = protocol,
        ["password"] = password, ["ca"] = f.ParticipantCa.ExportCertificatePem(), ["strict"] = false, ["steps"] = steps,
    };

    private async Task<NodeStation> HoldingStationAsync(HttpClient http, string stationId, string protocol, Dictionary<string, object> replies, string password = Password)
    {
        var config = StationConfig(stationId, protocol, password,
        [
            new { call = "BootNotification", @params = protocol == "ocpp1.6"
                ? new { chargePointVendor = "PNC", chargePointModel = "Interop", chargePointSerialNumber = "SN-0001", firmwareVersion = "1.2.3" }
                : (object)new { reason = "PowerUp", chargingStation = new { vendorName = "PNC", model = "Interop", serialNumber = "SN-0001", firmwareVersion = "1.2.3" } } },
        ]);
        config["holdUntilStdinEnds"] = true;
        config["replies"] = replies;
        var station = await NodeStation.StartAsync(config);
        // Connected and booted, as the REST view tells it.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var view = await Json(await http.GetAsync($"/v1/ocpp/stations/{stationId}"));
            if (view.GetProperty("connected").GetBoolean() && view.GetProperty("lastBootAt").ValueKind == JsonValueKind.String) return station;
            if (waited.Elapsed > TimeSpan.FromSeconds(20))
            {
                await station.DisposeAsync();
                throw new TimeoutException("The node station did not connect and boot: " + view);
            }
            await Task.Delay(100);
        }
    }

    private async Task<string> PoolRootAsync(string caId)
    {
        using var admin = f.Client(f.AdminCertificate);
        var der = (await f.Ca.Authorities.GetAsync(caId)).Certificate.GetEncoded();
        var added = await admin.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(der) });
        if (added.StatusCode == HttpStatusCode.Conflict)
        {
            var all = await admin.GetFromJsonAsync<JsonElement>("/v1/root/rootCerts");
            return all.GetProperty("RootCertificateCollection").GetProperty("rootCertificates").EnumerateArray()
                .First(r => r.GetProperty("caCertificate").GetString() == Convert.ToBase64String(der)).GetProperty("rootCertificateId").GetString()!;
        }
        return (await Json(added)).GetProperty("RootResponse").GetProperty("rootCertificateId").GetString()!;
    }

    [Fact]
    public async Task A_CPO_registers_its_station_the_password_is_only_stored_hashed_and_registration_and_deletion_are_audited()
    {
        using var cpo = await NewCpoAsync();
        using var other = await NewCpoAsync();
        using var admin = f.Client(f.AdminCertificate);
        var id = NewStationId();

        var created = await RegisterAsync(cpo.Http, id);
        var text = await created.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.DoesNotContain(Password, text);
        Assert.Equal($"/v1/ocpp/stations/{id}", created.Headers.Location?.OriginalString);
        var view = JsonDocument.Parse(text).RootElement;
        // A password the operator chose is not answered back, and the station is flagged as having one.
        Assert.False(view.TryGetProperty("password", out _), text);
        Assert.Equal("operator", view.GetProperty("passwordChosenBy").GetString());
        Assert.Equal((id, cpo.Id, cpo.Organization, 2, "SN-0001", false),
            (view.GetProperty("stationId").GetString(), view.GetProperty("cpoId").GetString(), view.GetProperty("organization").GetString(),
             view.GetProperty("securityProfile").GetInt32(), view.GetProperty("serialNumber").GetString(), view.GetProperty("connected").GetBoolean()));

        // At rest: the PBKDF2 record only.
        await using (var cmd = f.Db.CreateCommand("select password_hash from ocpp_stations where station_id = $1"))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = id });
            var hash = (string)(await cmd.ExecuteScalarAsync())!;
            Assert.StartsWith("pbkdf2-sha256$", hash);
            Assert.DoesNotContain(Password, hash);
            Assert.True(StationPassword.Verify(Encoding.UTF8.GetBytes(Password), hash));
        }

        // Audited with actor, station and CPO, never the password; the chain stays intact.
        var registered = Assert.Single(await AuditAsync("ocpp.station.register", id));
        Assert.Equal($"participant:{cpo.Id}", registered.Actor);
        Assert.Equal(cpo.Id, JsonDocument.Parse(registered.Details).RootElement.GetProperty("cpo").GetString());
        Assert.DoesNotContain(Password, registered.Details);
        Assert.True((await AuditChain.VerifyAsync(f.Ca.Audit.ReadAllAsync())).Intact);

        // Twice, for another CPO, another organization: refused.
        Assert.Contains("already registered", (await Problem(await RegisterAsync(cpo.Http, id), HttpStatusCode.Conflict)).GetProperty("detail").GetString());
        await Problem(await RegisterAsync(cpo.Http, NewStationId(), extra: new { cpoId = other.Id }), HttpStatusCode.Forbidden);
        await Problem(await RegisterAsync(cpo.Http, NewStationId(), extra: new { organization = "Somebody Else AG" }), HttpStatusCode.Forbidden);
        // Its own organization, spelled out, is fine.
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(cpo.Http, NewStationId(), extra: new { organization = cpo.Organization })).StatusCode);

        // The hub operator registers for a named CPO (and must name one), with any organization.
        await Problem(await RegisterAsync(admin, NewStationId()), HttpStatusCode.BadRequest);
        await Problem(await RegisterAsync(admin, NewStationId(), extra: new { cpoId = "nobody" }), HttpStatusCode.BadRequest);
        var byAdmin = NewStationId();
        var adminView = await Json(await RegisterAsync(admin, byAdmin, extra: new { cpoId = other.Id, organization = "Other Holding" }), HttpStatusCode.Created);
        Assert.Equal((other.Id, "Other Holding"), (adminView.GetProperty("cpoId").GetString(), adminView.GetProperty("organization").GetString()));
        Assert.Equal("participant:admin", Assert.Single(await AuditAsync("ocpp.station.register", byAdmin)).Actor);

        // Each CPO sees its own stations; the operator all of them.
        var mine = (await Json(await cpo.Http.GetAsync("/v1/ocpp/stations"))).EnumerateArray().Select(s => s.GetProperty("stationId").GetString()).ToList();
        Assert.Contains(id, mine);
        Assert.DoesNotContain(byAdmin, mine);
        var theirs = (await Json(await other.Http.GetAsync("/v1/ocpp/stations"))).EnumerateArray().Select(s => s.GetProperty("stationId").GetString()).ToList();
        Assert.Equal(new[] { byAdmin }, theirs);
        await Problem(await other.Http.GetAsync($"/v1/ocpp/stations?cpoId={cpo.Id}"), HttpStatusCode.Forbidden);
        var all = (await Json(await admin.GetAsync("/v1/ocpp/stations"))).EnumerateArray().Select(s => s.GetProperty("stationId").GetString()).ToList();
        Assert.Contains(id, all);
        Assert.Contains(byAdmin, all);

        // Unknown and other CPOs' stations.
        await Problem(await cpo.Http.GetAsync("/v1/ocpp/stations/CS-unknown"), HttpStatusCode.NotFound);
        await Problem(await other.Http.GetAsync($"/v1/ocpp/stations/{id}"), HttpStatusCode.Forbidden);
        await Problem(await other.Http.DeleteAsync($"/v1/ocpp/stations/{id}"), HttpStatusCode.Forbidden);
        await Problem(await cpo.Http.DeleteAsync("/v1/ocpp/stations/CS-unknown"), HttpStatusCode.NotFound);

        // Deletion by its CPO, audited; afterwards it is gone.
        Assert.Equal(HttpStatusCode.NoContent, (await cpo.Http.DeleteAsync($"/v1/ocpp/stations/{id}")).StatusCode);
        var deleted = Assert.Single(await AuditAsync("ocpp.station.delete", id));
        Assert.Equal(($"participant:{cpo.Id}", cpo.Id), (deleted.Actor, JsonDocument.Parse(deleted.Details).RootElement.GetProperty("cpo").GetString()));
        await Problem(await cpo.Http.GetAsync($"/v1/ocpp/stations/{id}"), HttpStatusCode.NotFound);

        // Described in the OpenAPI document.
        var paths = (await admin.GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");
        foreach (var path in new[] { "/v1/ocpp/stations", "/v1/ocpp/stations/{stationId}", "/v1/ocpp/stations/{stationId}/certificates", "/v1/ocpp/stations/{stationId}/trigger/sign-v2g-certificate" })
            Assert.True(paths.TryGetProperty(path, out _), path + " missing from the OpenAPI document");

        // Other roles may not use the station API at all.
        using (var adminForEmsp = f.Client(f.AdminCertificate))
            Assert.Equal(HttpStatusCode.Created, (await adminForEmsp.PostAsJsonAsync("/v1/participants", new { id = "emsp-st", role = "Emsp", identities = new[] { "DE8ST" } })).StatusCode);
        using var emsp = f.Client(await f.IssueClientCertificateAsync("emsp-st"));
        await Problem(await RegisterAsync(emsp, NewStationId()), HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("ocpp2.0.1")]
    [InlineData("ocpp1.6")]
    public async Task The_CPO_installs_a_pool_root_lists_deletes_and_triggers_on_its_connected_station(string protocol)
    {
        using var cpo = await NewCpoAsync();
        using var other = await NewCpoAsync();
        var id = NewStationId();
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(cpo.Http, id)).StatusCode);
        var rootId = await PoolRootAsync("iso2-v2g-root");
        var rootDer = (await f.Ca.Authorities.GetAsync("iso2-v2g-root")).Certificate.GetEncoded();

        // A wrong password, an unregistered station: refused at the upgrade.
        var wrong = await NodeStation.RunAsync(StationConfig(id, protocol, "not-the-password-0123", []));
        Assert.Equal(401, wrong.RefusedWithStatus);
        var unknown = await NodeStation.RunAsync(StationConfig(NewStationId(), protocol, Password, []));
        Assert.Equal(404, unknown.RefusedWithStatus);

        var p = protocol == "ocpp1.6" ? "pnc:" : "";
        await using var station = await HoldingStationAsync(cpo.Http, id, protocol, new Dictionary<string, object>
        {
            [p + "InstallCertificate"] = new { status = "Accepted" },
            [p + "GetInstalledCertificateIds"] = InstalledIds,
            [p + "DeleteCertificate"] = new { status = "Accepted" },
            [p + "TriggerMessage"] = new { status = "Accepted" },
        });
        var view = await Json(await cpo.Http.GetAsync($"/v1/ocpp/stations/{id}"));
        Assert.Equal((true, protocol, "PNC", "1.2.3"),
            (view.GetProperty("connected").GetBoolean(), view.GetProperty("ocppVersion").GetString(), view.GetProperty("vendor").GetString(), view.GetProperty("firmwareVersion").GetString()));

        // Another CPO may not command it.
        await Problem(await other.Http.PostAsJsonAsync($"/v1/ocpp/stations/{id}/certificates", new { rootCertificateId = rootId }), HttpStatusCode.Forbidden);
        await Problem(await other.Http.PostAsync($"/v1/ocpp/stations/{id}/trigger/sign-v2g-certificate", null), HttpStatusCode.Forbidden);

        var install = await Json(await cpo.Http.PostAsJsonAsync($"/v1/ocpp/stations/{id}/certificates", new { certificateType = "V2GRootCertificate", rootCertificateId = rootId }));
        Assert.Equal("Accepted", install.GetProperty("status").GetString());
        var installed = await Json(await cpo.Http.GetAsync($"/v1/ocpp/stations/{id}/certificates?type=V2GRootCertificate"));
        Assert.Equal("Accepted", installed.GetProperty("status").GetString());
        var entry = installed.GetProperty("certificateHashDataChain")[0];
        Assert.Equal("1f", entry.GetProperty("certificateHashData").GetProperty("serialNumber").GetString());
        // The entry as listed goes straight back as the DeleteCertificate body.
        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/v1/ocpp/stations/{id}/certificates") { Content = JsonContent.Create(entry) };
        Assert.Equal("Accepted", (await Json(await cpo.Http.SendAsync(delete))).GetProperty("status").GetString());
        var trigger = await Json(await cpo.Http.PostAsync($"/v1/ocpp/stations/{id}/trigger/sign-v2g-certificate", null));
        Assert.Equal("Accepted", trigger.GetProperty("status").GetString());

        var run = await station.FinishAsync();
        var sent = Assert.Single(run.Received(p + "InstallCertificate"));
        Assert.Equal("V2GRootCertificate", sent.GetProperty("certificateType").GetString());
        Assert.Equal(rootDer, X509CertificateLoader.LoadCertificate(Encoding.ASCII.GetBytes(sent.GetProperty("certificate").GetString()!)).RawData);
        Assert.Equal("V2GRootCertificate", Assert.Single(run.Received(p + "GetInstalledCertificateIds")).GetProperty("certificateType")[0].GetString());
        var deleted = Assert.Single(run.Received(p + "DeleteCertificate")).GetProperty("certificateHashData");
        Assert.Equal(("SHA256", "1f", new string('a', 64)),
            (deleted.GetProperty("hashAlgorithm").GetString(), deleted.GetProperty("serialNumber").GetString(), deleted.GetProperty("issuerNameHash").GetString()));
        Assert.Equal("SignV2GCertificate", Assert.Single(run.Received(p + "TriggerMessage")).GetProperty("requestedMessage").GetString());
        var audited = Assert.Single(await AuditAsync("ocpp.station.certificate.install", id));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(rootDer)), JsonDocument.Parse(audited.Details).RootElement.GetProperty("fingerprint").GetString());
        Assert.Single(await AuditAsync("ocpp.station.certificate.delete", id));

        // The same commands once the station has gone: 409 with a clear reason.
        await WaitAsync(async () => !(await Json(await cpo.Http.GetAsync($"/v1/ocpp/stations/{id}"))).GetProperty("connected").GetBoolean());
        var offline = new[]
        {
            await cpo.Http.PostAsJsonAsync($"/v1/ocpp/stations/{id}/certificates", new { certificateType = "V2GRootCertificate", rootCertificateId = rootId }),
            await cpo.Http.GetAsync($"/v1/ocpp/stations/{id}/certificates"),
            await cpo.Http.DeleteAsync($"/v1/ocpp/stations/{id}/certificates?hashAlgorithm=SHA256&issuerNameHash={new string('a', 64)}&issuerKeyHash={new string('b', 64)}&serialNumber=1f"),
            await cpo.Http.PostAsync($"/v1/ocpp/stations/{id}/trigger/sign-v2g-certificate", null),
        };
        foreach (var r in offline)
            Assert.Contains("not connected", (await Problem(r, HttpStatusCode.Conflict)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_station_that_refuses_gives_502_and_one_that_does_not_answer_504()
    {
        using var cpo = await NewCpoAsync();
        var id = NewStationId();
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(cpo.Http, id)).StatusCode);
        var options = f.App.Services.GetRequiredService<OcppOptions>();
        var callTimeout = options.CallTimeout;
        options.CallTimeout = TimeSpan.FromSeconds(2);
        try
        {
            await using var station = await HoldingStationAsync(cpo.Http, id, "ocpp2.0.1", new Dictionary<string, object>
            {
                ["TriggerMessage"] = new { error = "NotSupported", message = "no V2G here" },
                ["GetInstalledCertificateIds"] = new { status = "NoSuchStatus" },
                ["DeleteCertificate"] = new { ignore = 1, reply = new { status = "Accepted" } },
            });
            var refused = await Problem(await cpo.Http.PostAsync($"/v1/ocpp/stations/{id}/trigger/sign-v2g-certificate", null), HttpStatusCode.BadGateway);
            Assert.Contains("NotSupported", refused.GetProperty("detail").GetString());
            var malformed = await Problem(await cpo.Http.GetAsync($"/v1/ocpp/stations/{id}/certificates"), HttpStatusCode.BadGateway);
            Assert.Contains("schema", malformed.GetProperty("detail").GetString());
            var silent = await Problem(await cpo.Http.DeleteAsync($"/v1/ocpp/stations/{id}/certificates?hashAlgorithm=SHA256&issuerNameHash=aa&issuerKeyHash=bb&serialNumber=1f"), HttpStatusCode.GatewayTimeout);
            Assert.Contains("no answer", silent.GetProperty("detail").GetString());
            // No answer is not "deleted": nothing is audited.
            Assert.Empty(await AuditAsync("ocpp.station.certificate.delete", id));
            await station.FinishAsync();
        }
        finally
        {
            options.CallTimeout = callTimeout;
        }
    }

    [Fact]
    public async Task Deleting_a_connected_station_disconnects_it_and_it_cannot_come_back()
    {
        using var cpo = await NewCpoAsync();
        var id = NewStationId();
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(cpo.Http, id)).StatusCode);
        await using var station = await HoldingStationAsync(cpo.Http, id, "ocpp2.0.1", []);

        Assert.Equal(HttpStatusCode.NoContent, (await cpo.Http.DeleteAsync($"/v1/ocpp/stations/{id}")).StatusCode);
        var connected = f.App.Services.GetRequiredService<ConnectedStations>();
        await WaitAsync(() => Task.FromResult(connected.Find(id) == null));
        Assert.Equal("true", JsonDocument.Parse(Assert.Single(await AuditAsync("ocpp.station.delete", id)).Details).RootElement.GetProperty("disconnected").GetString());
        await station.FinishAsync();
        Assert.Equal(404, (await NodeStation.RunAsync(StationConfig(id, "ocpp2.0.1", Password, []))).RefusedWithStatus);
    }

    [Fact]
    public async Task Bad_bodies_and_parameters_are_400_problem_details_never_500()
    {
        using var cpo = await NewCpoAsync();
        var id = NewStationId();
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(cpo.Http, id)).StatusCode);
        var subCaDer = (await f.Ca.Authorities.GetAsync("iso2-cpo-subca1")).Certificate.GetEncoded();
        var rootDer = (await f.Ca.Authorities.GetAsync("iso2-v2g-root")).Certificate.GetEncoded();
        var subCa = PemEncoding.WriteString("CERTIFICATE", subCaDer);
        var root = PemEncoding.WriteString("CERTIFICATE", rootDer);

        HttpRequestMessage Raw(HttpMethod method, string path, string? json) =>
            new(method, path) { Content = json == null ? null : new StringContent(json, Encoding.UTF8, "application/json") };
        var stations = "/v1/ocpp/stations";
        var certificates = $"/v1/ocpp/stations/{id}/certificates";
        var requests = new List<(string Why, HttpRequestMessage Request)>
        {
            ("not JSON", Raw(HttpMethod.Post, stations, "{ not json")),
            ("no body", Raw(HttpMethod.Post, stations, null)),
            ("JSON null", Raw(HttpMethod.Post, stations, "null")),
            ("no stationId", Raw(HttpMethod.Post, stations, $$"""{"securityProfile":2,"password":"{{Password}}"}""")),
            ("stationId with ':'", Raw(HttpMethod.Post, stations, $$"""{"stationId":"a:b","securityProfile":2,"password":"{{Password}}"}""")),
            ("stationId too long", Raw(HttpMethod.Post, stations, $$"""{"stationId":"{{new string('x', 49)}}","securityProfile":2,"password":"{{Password}}"}""")),
            ("profile 1", Raw(HttpMethod.Post, stations, $$"""{"stationId":"{{NewStationId()}}","securityProfile":1,"password":"{{Password}}"}""")),
            ("profile not a number", Raw(HttpMethod.Post, stations, $$"""{"stationId":"{{NewStationId()}}","securityProfile":"two","password":"{{Password}}"}""")),
            ("profile an object", Raw(HttpMethod.Post, stations, $$"""{"stationId":"{{NewStationId()}}","securityProfile":{},"password":"{{Password}}"}""")),
            ("password with a control character", Raw(HttpMethod.Post, stations, $$"""{"stationId":"{{NewStationId()}}","securityProfile":2,"password":"station-password-\u0001x"}""")),
            ("password too short", Raw(HttpMethod.Post, stations, $$"""{"stationId":"{{NewStationId()}}","securityProfile":2,"password":"short-password"}""")),
            ("password too long", Raw(HttpMethod.Post, stations, $$"""{"stationId":"{{NewStationId()}}","securityProfile":2,"password":"{{new string('p', 41)}}"}""")),
            ("password for profile 3", Raw(HttpMethod.Post, stations, $$"""{"stationId":"{{NewStationId()}}","securityProfile":3,"password":"{{Password}}"}""")),
            ("serial too long", Raw(HttpMethod.Post, stations, $$"""{"stationId":"{{NewStationId()}}","securityProfile":3,"serialNumber":"{{new string('9', 26)}}"}""")),
            ("install: neither root id nor certificate", Raw(HttpMethod.Post, certificates, """{"certificateType":"V2GRootCertificate"}""")),
            ("install: both", Raw(HttpMethod.Post, certificates, JsonSerializer.Serialize(new { certificateType = "V2GRootCertificate", rootCertificateId = Guid.NewGuid(), certificate = root }))),
            ("install: root id not a UUID", Raw(HttpMethod.Post, certificates, """{"certificateType":"V2GRootCertificate","rootCertificateId":"nope"}""")),
            ("install: root not in the pool", Raw(HttpMethod.Post, certificates, JsonSerializer.Serialize(new { certificateType = "V2GRootCertificate", rootCertificateId = Guid.NewGuid() }))),
            ("install: unknown type", Raw(HttpMethod.Post, certificates, JsonSerializer.Serialize(new { certificateType = "EVRoot", certificate = root }))),
            ("install: no type for a PEM", Raw(HttpMethod.Post, certificates, JsonSerializer.Serialize(new { certificate = root }))),
            ("install: not PEM", Raw(HttpMethod.Post, certificates, """{"certificateType":"V2GRootCertificate","certificate":"-----BEGIN CERTIFICATE-----\nxx"}""")),
            ("install: not a certificate", Raw(HttpMethod.Post, certificates, """{"certificateType":"V2GRootCertificate","certificate":"aGVsbG8="}""")),
            ("install: a sub-CA, not a root", Raw(HttpMethod.Post, certificates, JsonSerializer.Serialize(new { certificateType = "V2GRootCertificate", certificate = subCa }))),
            ("install: not JSON", Raw(HttpMethod.Post, certificates, "[1,")),
            ("list: unknown type", Raw(HttpMethod.Get, certificates + "?type=V2GRootCertificate&type=Everything", null)),
            ("delete: nothing", Raw(HttpMethod.Delete, certificates, null)),
            ("delete: bad algorithm", Raw(HttpMethod.Delete, certificates + "?hashAlgorithm=MD5&issuerNameHash=aa&issuerKeyHash=bb&serialNumber=1f", null)),
            ("delete: not hex", Raw(HttpMethod.Delete, certificates, """{"hashAlgorithm":"SHA256","issuerNameHash":"zz","issuerKeyHash":"bb","serialNumber":"1f"}""")),
            ("delete: serial too long", Raw(HttpMethod.Delete, certificates, $$"""{"hashAlgorithm":"SHA256","issuerNameHash":"aa","issuerKeyHash":"bb","serialNumber":"{{new string('1', 41)}}"}""")),
            ("delete: not JSON", Raw(HttpMethod.Delete, certificates, "{")),
            ("delete: JSON of the wrong shape", Raw(HttpMethod.Delete, certificates, "[1,2]")),
        };
        foreach (var (why, request) in requests)
        {
            using var response = await cpo.Http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode} {body}");
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{why}: {response.Content.Headers.ContentType} {body}");
            Assert.DoesNotContain(Password, body);
        }
        // None of them registered anything.
        var listed = await Json(await cpo.Http.GetAsync("/v1/ocpp/stations"));
        Assert.Equal(new[] { id }, listed.EnumerateArray().Select(s => s.GetProperty("stationId").GetString()).ToList());
    }

    private async Task<string?> ColumnAsync(string column, string stationId)
    {
        await using var cmd = f.Db.CreateCommand($"select {column}::text from ocpp_stations where station_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = stationId });
        return await cmd.ExecuteScalarAsync() as string;
    }

    private async Task<StationRun> LoginAsync(string stationId, string password, string protocol = "ocpp2.0.1") =>
        await NodeStation.RunAsync(StationConfig(stationId, protocol, password, [new { call = "Heartbeat", @params = new { } }]));

    [Fact]
    public async Task A_station_registered_without_a_password_gets_a_generated_one_answered_once_and_kept_as_a_keyed_hash()
    {
        using var cpo = await NewCpoAsync();
        var id = NewStationId();
        var created = await Json(await RegisterAsync(cpo.Http, id, password: null), HttpStatusCode.Created);
        var password = created.GetProperty("password").GetString()!;
        // OCPP 2.0.1 BasicAuthPassword (16-40 characters of passwordString): 24 of A-Z a-z 0-9 - _, 144 bits.
        Assert.Equal(24, password.Length);
        Assert.All(password, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
        Assert.Equal("service", created.GetProperty("passwordChosenBy").GetString());

        // At rest: the keyed record only; never readable again, nor in the audit log.
        var record = await ColumnAsync("password_hash", id);
        Assert.StartsWith("hmac-sha256$", record);
        Assert.DoesNotContain(password, record);
        Assert.Equal("service", await ColumnAsync("password_chosen_by", id));
        var shown = await cpo.Http.GetStringAsync($"/v1/ocpp/stations/{id}");
        Assert.DoesNotContain(password, shown);
        Assert.False(JsonDocument.Parse(shown).RootElement.TryGetProperty("password", out _), shown);
        Assert.DoesNotContain(password, await cpo.Http.GetStringAsync("/v1/ocpp/stations"));
        var registered = Assert.Single(await AuditAsync("ocpp.station.register", id));
        Assert.DoesNotContain(password, registered.Details);
        Assert.Equal("service", JsonDocument.Parse(registered.Details).RootElement.GetProperty("passwordChosenBy").GetString());

        var run = await LoginAsync(id, password);
        Assert.True(run.Connected, run.ToString());
        Assert.Equal(401, (await LoginAsync(id, password[..^1] + (password[^1] == 'A' ? 'B' : 'A'))).RefusedWithStatus);
        Assert.Equal(record, await ColumnAsync("password_hash", id));
    }

    [Fact]
    public async Task An_operator_chosen_password_stays_PBKDF2_and_a_PBKDF2_record_from_before_is_upgraded_at_its_next_login()
    {
        using var cpo = await NewCpoAsync();
        var chosen = NewStationId();
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(cpo.Http, chosen)).StatusCode);
        var record = await ColumnAsync("password_hash", chosen);
        Assert.StartsWith("pbkdf2-sha256$", record);
        Assert.True((await LoginAsync(chosen, Password)).Connected);
        Assert.Equal(record, await ColumnAsync("password_hash", chosen));
        Assert.Equal("operator", (await Json(await cpo.Http.GetAsync($"/v1/ocpp/stations/{chosen}"))).GetProperty("passwordChosenBy").GetString());

        // A station registered before passwords were generated: its origin unknown (as migration 0017 leaves it).
        var old = NewStationId();
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(cpo.Http, old)).StatusCode);
        await using (var cmd = f.Db.CreateCommand("update ocpp_stations set password_chosen_by = null where station_id = $1"))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = old });
            await cmd.ExecuteNonQueryAsync();
        }
        Assert.Equal(JsonValueKind.Null, (await Json(await cpo.Http.GetAsync($"/v1/ocpp/stations/{old}"))).GetProperty("passwordChosenBy").ValueKind);
        Assert.Equal(401, (await LoginAsync(old, "not-the-password-0123")).RefusedWithStatus);
        Assert.StartsWith("pbkdf2-sha256$", await ColumnAsync("password_hash", old));
        Assert.True((await LoginAsync(old, Password)).Connected);
        var upgraded = await ColumnAsync("password_hash", old);
        Assert.StartsWith("hmac-sha256$", upgraded);
        Assert.True((await LoginAsync(old, Password, "ocpp1.6")).Connected);
        Assert.Equal(upgraded, await ColumnAsync("password_hash", old));
    }

    [Theory]
    [InlineData("ocpp2.0.1")]
    [InlineData("ocpp1.6")]
    public async Task The_CPO_rotates_its_connected_stations_password_over_OCPP_and_the_old_one_ends_with_its_window(string protocol)
    {
        using var cpo = await NewCpoAsync();
        using var other = await NewCpoAsync();
        using var admin = f.Client(f.AdminCertificate);
        var id = NewStationId();
        var old = (await Json(await RegisterAsync(cpo.Http, id, password: null), HttpStatusCode.Created)).GetProperty("password").GetString()!;
        var rotate = $"/v1/ocpp/stations/{id}/password/rotate";

        // Not connected: nothing to send it to.
        Assert.Contains("not connected", (await Problem(await cpo.Http.PostAsync(rotate, null), HttpStatusCode.Conflict)).GetProperty("detail").GetString());

        string sent;
        await using (var station = await HoldingStationAsync(cpo.Http, id, protocol, new Dictionary<string, object>
        {
            ["SetVariables"] = new { setVariableResult = new[] { new { attributeStatus = "Accepted", component = new { name = "SecurityCtrlr" }, variable = new { name = "BasicAuthPassword" } } } },
            ["ChangeConfiguration"] = new { status = "Accepted" },
        }, old))
        {
            // Another CPO's station: refused before anything is sent.
            await Problem(await other.Http.PostAsync(rotate, null), HttpStatusCode.Forbidden);
            await Problem(await cpo.Http.PostAsync("/v1/ocpp/stations/CS-unknown/password/rotate", null), HttpStatusCode.NotFound);

            var text = await (await cpo.Http.PostAsync(rotate, null)).Content.ReadAsStringAsync();
            var answer = JsonDocument.Parse(text).RootElement;
            Assert.True(answer.TryGetProperty("status", out var status), text);
            Assert.Equal(("Accepted", true), (status.GetString(), answer.GetProperty("changed").GetBoolean()));
            Assert.Equal(JsonValueKind.String, answer.GetProperty("previousValidUntil").ValueKind);
            var report = await station.FinishAsync();
            sent = protocol == "ocpp1.6"
                ? Encoding.ASCII.GetString(Convert.FromHexString(Assert.Single(report.Received("ChangeConfiguration")).GetProperty("value").GetString()!))
                : Assert.Single(Assert.Single(report.Received("SetVariables")).GetProperty("setVariableData").EnumerateArray()).GetProperty("attributeValue").GetString()!;
            Assert.DoesNotContain(sent, text);
        }
        Assert.NotEqual(old, sent);
        var rotated = Assert.Single(await AuditAsync("ocpp.station.password.rotate", id));
        Assert.Equal(($"participant:{cpo.Id}", "Accepted"), (rotated.Actor, JsonDocument.Parse(rotated.Details).RootElement.GetProperty("status").GetString()));
        Assert.DoesNotContain(sent, rotated.Details);
        Assert.DoesNotContain(old, rotated.Details);
        Assert.StartsWith("hmac-sha256$", await ColumnAsync("password_hash", id));
        Assert.Equal("service", await ColumnAsync("password_chosen_by", id));

        // Within the window the old password still logs the station in (it applies the new one when it reconnects) ...
        Assert.True((await LoginAsync(id, old, protocol)).Connected);
        // ... after it, not any more; the new one does.
        await using (var cmd = f.Db.CreateCommand("update ocpp_stations set previous_password_until = now() - interval '1 second' where station_id = $1"))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = id });
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        Assert.Equal(401, (await LoginAsync(id, old, protocol)).RefusedWithStatus);
        var run = await LoginAsync(id, sent, protocol);
        Assert.True(run.Connected, run.ToString());
        Assert.Null(await ColumnAsync("previous_password_hash", id));

        // The hub operator may rotate any station; offline, it gets the same 409.
        await Problem(await admin.PostAsync(rotate, null), HttpStatusCode.Conflict);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(15)) throw new TimeoutException("condition not met in 15 s");
            await Task.Delay(100);
        }
    }
}
