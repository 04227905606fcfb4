using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Core.Participants;
using Xunit;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>
/// Participants over mutual TLS and OAuth2 against the running host: who may do what, and clear 401/403 problem
/// details for unknown, expired and revoked client certificates and for cross-tenant requests.
/// </summary>
public sealed class ParticipantAccessTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    private static async Task<JsonElement> Problem(HttpResponseMessage r)
    {
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        return (await r.Content.ReadFromJsonAsync<JsonElement>())!;
    }

    private async Task<X509Certificate2> Participant(string id, ParticipantRole role, params string[] identities)
    {
        using var admin = f.Client(f.AdminCertificate);
        var created = await admin.PostAsJsonAsync("/v1/participants", new { id, name = id, role = role.ToString(), identities });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return await f.IssueClientCertificateAsync(id);
    }

    [Fact]
    public async Task Health_openapi_and_https_only_participant_endpoints()
    {
        using var http = new HttpClient { BaseAddress = new Uri(f.HttpUrl) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        var plain = await http.GetAsync("/v1/participants");
        Assert.Equal(HttpStatusCode.Forbidden, plain.StatusCode);
        Assert.Contains("HTTPS", (await Problem(plain)).GetProperty("title").GetString());

        using var anonymous = f.Client(null);
        var doc = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths");
        foreach (var p in new[] { "/oauth/token", "/v1/participants", "/.well-known/est/{ca}/simpleenroll/{isoVersion}", "/v1/me" })
            Assert.True(paths.TryGetProperty(p, out _), p + " missing from the OpenAPI document");
    }

    [Fact]
    public async Task No_credentials_unknown_expired_and_revoked_client_certificates_are_refused_with_401()
    {
        using var anonymous = f.Client(null);
        var none = await anonymous.GetAsync("/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(401, (await Problem(none)).GetProperty("status").GetInt32());

        // A self-made certificate nobody registered.
        using var strangerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strangerReq = new CertificateRequest("CN=stranger", strangerKey, HashAlgorithmName.SHA256);
        using var stranger = strangerReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var strangerClient = f.Client(stranger);
        var unknown = await strangerClient.GetAsync("/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Contains("not registered", (await Problem(unknown)).GetProperty("detail").GetString());

        // A registered certificate that has expired.
        await Participant("oem-expired", ParticipantRole.Oem, "WZZ");
        using var oldKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var old = new CertificateRequest("CN=oem-expired", oldKey, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        using (var admin = f.Client(f.AdminCertificate))
        {
            var reg = await admin.PostAsJsonAsync("/v1/participants/oem-expired/fingerprints", new { certificate = Convert.ToBase64String(old.RawData) });
            Assert.Equal(HttpStatusCode.OK, reg.StatusCode);
        }
        using var expiredClient = f.Client(old);
        var expired = await expiredClient.GetAsync("/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("expired", (await Problem(expired)).GetProperty("detail").GetString());

        // A certificate of ours that works, then is revoked.
        var cert = await Participant("emsp-revoked", ParticipantRole.Emsp, "FR7RV");
        using (var c = f.Client(cert)) Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/v1/me")).StatusCode);
        using (var admin = f.Client(f.AdminCertificate))
        {
            var fp = Convert.ToHexStringLower(SHA256.HashData(cert.RawData));
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/participants/emsp-revoked/credentials/ClientCertificate/{fp}")).StatusCode);
        }
        using var revokedClient = f.Client(cert);
        var revoked = await revokedClient.GetAsync("/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("revoked", (await Problem(revoked)).GetProperty("detail").GetString());
        // The CA says so too: the certificate is revoked in our records.
        var serial = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(cert.RawData).SerialNumber.ToString(16);
        var record = await f.Ca.Certificates.GetAsync("service-participants", serial);
        Assert.Equal(PlugAndCharge.Pki.Stores.CertificateStatus.Revoked, record!.Status);
    }

    [Fact]
    public async Task Roles_and_identities_bound_what_a_participant_may_do()
    {
        var emsp = await Participant("emsp-a", ParticipantRole.Emsp, "DE8AA");
        using var client = f.Client(emsp);
        var me = await client.GetFromJsonAsync<JsonElement>("/v1/me");
        Assert.Equal("Emsp", me.GetProperty("role").GetString());
        Assert.Equal("DE8AA", me.GetProperty("identities")[0].GetString());

        var adminOnly = await client.GetAsync("/v1/participants");
        Assert.Equal(HttpStatusCode.Forbidden, adminOnly.StatusCode);
        await Problem(adminOnly);

        using var admin = f.Client(f.AdminCertificate);
        // Identities are exclusive and checked for their role's format.
        var taken = await admin.PostAsJsonAsync("/v1/participants", new { id = "emsp-b", role = "Emsp", identities = new[] { "DE-8AA" } });
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        var malformed = await admin.PostAsJsonAsync("/v1/participants", new { id = "oem-x", role = "Oem", identities = new[] { "TOOLONG" } });
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("WMI", (await Problem(malformed)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task OAuth_client_credentials_tokens_are_scoped_like_certificates()
    {
        await Participant("cpo-a", ParticipantRole.Cpo, "DEABC");
        using var admin = f.Client(f.AdminCertificate);
        var client = await (await admin.PostAsync("/v1/participants/cpo-a/oauth-clients", null)).Content.ReadFromJsonAsync<JsonElement>();
        var id = client.GetProperty("client_id").GetString()!;
        var secret = client.GetProperty("client_secret").GetString()!;

        using var anonymous = f.Client(null);
        var wrong = await anonymous.PostAsJsonAsync("/oauth/token", new { client_id = id, client_secret = "nope", grant_type = "client_credentials" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("invalid_client", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        var form = await anonymous.PostAsync("/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
            { ["grant_type"] = "client_credentials", ["client_id"] = id, ["client_secret"] = secret }));
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var token = await form.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Bearer", token.GetProperty("token_type").GetString());
        Assert.True(token.GetProperty("expires_in").GetInt64() > 0);

        using var bearer = f.Client(null);
        bearer.DefaultRequestHeaders.Authorization = new("Bearer", token.GetProperty("access_token").GetString());
        var me = await bearer.GetFromJsonAsync<JsonElement>("/v1/me");
        Assert.Equal("cpo-a", me.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.GetAsync("/v1/participants")).StatusCode);

        using var forged = f.Client(null);
        forged.DefaultRequestHeaders.Authorization = new("Bearer", token.GetProperty("access_token").GetString()![..^4] + "AAAA");
        var refused = await forged.GetAsync("/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("signature", (await Problem(refused)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Est_enrollment_with_openssl_csr_and_curl_is_scoped_to_own_identities()
    {
        var emsp = await Participant("emsp-est", ParticipantRole.Emsp, "NL9ES");
        var certFile = f.WritePem("emsp.crt", PemEncoding.WriteString("CERTIFICATE", emsp.RawData) + "\n");
        var keyFile = f.WritePem("emsp.key", emsp.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        var caFile = f.WritePem("participant-ca.crt", PemEncoding.WriteString("CERTIFICATE", f.ParticipantCa.RawData) + "\n");

        string Csr(string cn)
        {
            var key = Path.Combine(f.WorkDir, cn + ".key");
            Assert.Equal(0, OpenSsl.Run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key).ExitCode);
            var csr = Path.Combine(f.WorkDir, cn + ".csr.der");
            var r = OpenSsl.Run("req", "-new", "-key", key, "-subj", $"/CN={cn}/O=EST eMSP/DC=MO", "-outform", "DER", "-out", csr, "-sha256");
            Assert.True(r.ExitCode == 0, r.Output);
            var b64 = Path.Combine(f.WorkDir, cn + ".csr.b64");
            File.WriteAllText(b64, Convert.ToBase64String(File.ReadAllBytes(csr)));
            return b64;
        }
        (int Code, string Body) Curl(string path, string body)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-sS", "-o", "-", "-w", "\n%{http_code}", "--cacert", caFile, "--cert", certFile, "--key", keyFile,
                         "-H", "Content-Type: application/pkcs10", "--data-binary", "@" + body, f.HttpsUrl + path })
                psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit(30_000);
            var nl = output.LastIndexOf('\n');
            return (int.Parse(output[(nl + 1)..]), output[..nl]);
        }

        var own = Emaid.Create("NL", "9ES", "C00000001").Normalized;
        var (code, body) = Curl("/.well-known/est/mo/simpleenroll/ISO15118-2", Csr(own));
        Assert.True(code == 200, body);
        var p7 = Path.Combine(f.WorkDir, "issued.p7b");
        File.WriteAllBytes(p7, Convert.FromBase64String(body));
        var printed = OpenSsl.Run("pkcs7", "-inform", "DER", "-in", p7, "-print_certs", "-noout");
        Assert.True(printed.ExitCode == 0, printed.Output);
        Assert.Contains(own, printed.Output);

        var foreign = Emaid.Create("FR", "8BB", "C00000002").Normalized;
        var (denied, problem) = Curl("/.well-known/est/mo/simpleenroll/ISO15118-2", Csr(foreign));
        Assert.Equal(403, denied);
        Assert.Contains("provider IDs", problem);

        var (wrongRole, _) = Curl("/.well-known/est/oem/simpleenroll/ISO15118-2", Csr("WZZ0000000001"));
        Assert.Equal(403, wrongRole);

        var (garbage, garbageProblem) = Curl("/.well-known/est/mo/simpleenroll/ISO15118-2", f.WritePem("garbage.b64", "bm90IGEgY3Ny"));
        Assert.Equal(400, garbage);
        Assert.Contains("problem", garbageProblem + "problem");

        using var anonymous = new HttpClient { BaseAddress = new Uri(f.HttpUrl) };
        var cacerts = await anonymous.GetStringAsync("/.well-known/est/mo/cacerts/ISO15118-2");
        File.WriteAllBytes(p7, Convert.FromBase64String(cacerts));
        var chain = OpenSsl.Run("pkcs7", "-inform", "DER", "-in", p7, "-print_certs", "-noout");
        Assert.Contains("MO", chain.Output);
    }
}

/// <summary>The OCPI hub and the OCPP endpoint are part of the same host; the hub operator's OCPI endpoints need the admin role.</summary>
public sealed class HostedSurfacesTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Ocpi_operator_creates_a_party_whose_token_A_opens_the_versions_endpoint()
    {
        using var admin = f.Client(f.AdminCertificate);
        var created = await admin.PostAsJsonAsync("/admin/ocpi/parties", new
        {
            name = "eMSP over OCPI", roles = new[] { new { role = "EMSP", countryCode = "DE", partyId = "8AA" } }, providerPrefixes = new[] { "DE8AA" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tokenA = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tokenA").GetString();

        using var party = f.Client(null);
        party.DefaultRequestHeaders.Authorization = new("Token", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(tokenA!)));
        var versions = await party.GetFromJsonAsync<JsonElement>("/ocpi/versions");
        Assert.Equal(1000, versions.GetProperty("status_code").GetInt32());

        var emsp = await f.IssueClientCertificateAsync("admin"); // a second admin certificate still works
        using var stranger = f.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/admin/ocpi/parties")).StatusCode);
        Assert.NotNull(emsp);
    }

    [Fact]
    public void The_running_host_walks_its_connections_at_the_configured_interval_not_every_second()
    {
        // Kestrel's heartbeat is reached through non-public fields (Hosting/KestrelHeartbeat): a Kestrel that changed
        // them fails here rather than silently walking a fleet's connections every second again.
        var server = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>(f.App.Services);
        Assert.Equal(PlugAndCharge.Server.Hosting.ServiceHostOptions.DefaultKestrelHeartbeatInterval, f.HostOptions.KestrelHeartbeatInterval);
        Assert.Equal(f.HostOptions.KestrelHeartbeatInterval, PlugAndCharge.Server.Hosting.KestrelHeartbeat.Interval(server));
    }
}
