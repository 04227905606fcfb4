using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Security;

/// <summary>
/// Issue 21, OCPI over the real host: credentials tokens never travel over the plain-HTTP listener, and the hub answers
/// only requests for its configured base URL (ServiceHostOptions.OcpiPublicBaseUrl).
/// </summary>
public sealed class OcpiPartyAttackTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task OCPI_is_not_served_on_the_plain_HTTP_listener_nor_for_a_forged_Host()
    {
        using var admin = f.Client(f.AdminCertificate);
        using var created = await admin.PostAsJsonAsync("/admin/ocpi/parties", new
        {
            name = "Attack eMSP", roles = new[] { new { role = "EMSP", countryCode = "DE", partyId = "ATK" } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tokenA = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["tokenA"]!.GetValue<string>();
        var authorization = "Token " + Convert.ToBase64String(Encoding.UTF8.GetBytes(tokenA));

        // Plain HTTP: not served, whatever Host the request names (the token would have crossed the wire in clear).
        using var plain = new HttpClient();
        foreach (var host in new[] { new Uri(f.HttpUrl).Authority, new Uri(f.HttpsUrl).Authority })
        {
            using var r = await SendAsync(plain, f.HttpUrl + "/ocpi/versions", authorization, host);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Equal(2000, JsonNode.Parse(await r.Content.ReadAsStringAsync())!["status_code"]!.GetValue<int>());
        }

        // HTTPS with a forged Host: refused before the token is even looked at.
        using var tls = f.Client(null);
        using (var forged = await SendAsync(tls, f.HttpsUrl + "/ocpi/versions", authorization, "attacker.example"))
        {
            Assert.Equal(HttpStatusCode.MisdirectedRequest, forged.StatusCode);
            var envelope = JsonNode.Parse(await forged.Content.ReadAsStringAsync())!;
            Assert.Equal(2000, envelope["status_code"]!.GetValue<int>());
            Assert.Null(envelope["data"]);
        }

        // HTTPS for the configured host: served, and every URL is the configured base URL's.
        using var ok = await SendAsync(tls, f.HttpsUrl + "/ocpi/versions", authorization, null);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var versions = JsonNode.Parse(await ok.Content.ReadAsStringAsync())!["data"]!.AsArray();
        Assert.NotEmpty(versions);
        Assert.All(versions, v => Assert.StartsWith(f.HttpsUrl + "/ocpi/", v!["url"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string url, string authorization, string? host)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (host != null) request.Headers.Host = host;
        return client.SendAsync(request);
    }
}
