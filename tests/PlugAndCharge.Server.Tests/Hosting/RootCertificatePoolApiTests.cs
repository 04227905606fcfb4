using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Xunit;

namespace PlugAndCharge.Server.Tests.Hosting;

/// <summary>The root certificate pool over HTTPS: the operator adds and deletes, every participant reads, others may not write.</summary>
public sealed class RootCertificatePoolApiTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Operator_adds_and_deletes_roots_participants_read_them_by_sha256_fingerprint()
    {
        using var admin = f.Client(f.AdminCertificate);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/participants", new { id = "cpo-rcp", role = "Cpo", identities = new[] { "DER01" } })).StatusCode);
        using var cpo = f.Client(await f.IssueClientCertificateAsync("cpo-rcp"));

        var v2g = (await f.Ca.Authorities.GetAsync("iso2-v2g-root")).Certificate.GetEncoded();
        var added = await admin.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(v2g) });
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        var root = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("RootResponse");
        Assert.Equal("V2G", root.GetProperty("rootType").GetString()); // taken from the certificate's DC
        Assert.Equal(Convert.ToHexString(SHA256.HashData(v2g)), root.GetProperty("fingerprint").GetString(), ignoreCase: true);
        var id = root.GetProperty("rootCertificateId").GetString();

        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(v2g) })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = "not base64!" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await cpo.PutAsJsonAsync("/v1/root/rootCerts", new { caCertificate = Convert.ToBase64String(v2g) })).StatusCode);

        var all = await cpo.GetFromJsonAsync<JsonElement>("/v1/root/rootCerts");
        Assert.Contains(all.GetProperty("RootCertificateCollection").GetProperty("rootCertificates").EnumerateArray(), r => r.GetProperty("rootCertificateId").GetString() == id);
        var one = await cpo.GetFromJsonAsync<JsonElement>($"/v1/root/rootCerts/{id}");
        Assert.Equal(Convert.ToBase64String(v2g), one.GetProperty("RootResponse").GetProperty("caCertificate").GetString());

        Assert.Equal(HttpStatusCode.Forbidden, (await cpo.DeleteAsync($"/v1/root/rootCerts/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/v1/root/rootCerts/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await cpo.GetAsync($"/v1/root/rootCerts/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await cpo.GetAsync("/v1/root/rootCerts/not-a-uuid")).StatusCode);
    }
}
