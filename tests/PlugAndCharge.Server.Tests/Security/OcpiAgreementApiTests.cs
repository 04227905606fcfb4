using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Security;

/// <summary>
/// Issue 24, /admin/ocpi/agreements over the real host (HTTPS, client certificates, every answer checked against
/// /openapi/v1.json): only the hub operator records and changes agreements, a change names the version it read
/// (If-Match), a CPO or eMSP participant reads only the agreements of the parties it is, and every change is audited.
/// </summary>
public sealed class OcpiAgreementApiTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    private static object NewAgreement(string cpo, string emsp, params string[] scopes) => new
    {
        cpo = new { countryCode = cpo[..2], partyId = cpo[2..] }, emsp = new { countryCode = emsp[..2], partyId = emsp[2..] }, scopes,
    };

    private async Task<HttpClient> ParticipantAsync(string id, string role, string identity)
    {
        using var admin = f.Client(f.AdminCertificate);
        var created = await admin.PostAsJsonAsync("/v1/participants", new { id, role, identities = new[] { identity } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return f.Client(await f.IssueClientCertificateAsync(id));
    }

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage r, HttpStatusCode expected)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static HttpRequestMessage WithIfMatch(HttpMethod method, string url, string? etag, object? body = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (etag != null) request.Headers.TryAddWithoutValidation("If-Match", etag);
        return request;
    }

    [Fact]
    public async Task Only_the_hub_operator_writes_and_each_participant_reads_only_its_own_agreements()
    {
        using var admin = f.Client(f.AdminCertificate);
        using var emsp = await ParticipantAsync("emsp-agr", "Emsp", "DEAGE");
        using var otherEmsp = await ParticipantAsync("emsp-agr2", "Emsp", "DEAGX");
        using var cpo = await ParticipantAsync("cpo-agr", "Cpo", "NLAGC");
        using var anonymous = f.Client(null);

        var mine = await JsonAsync(await admin.PostAsJsonAsync("/admin/ocpi/agreements", NewAgreement("NLAGC", "DEAGE", "tokens", "real-time-authorization")),
            HttpStatusCode.Created);
        var id = mine["id"]!.GetValue<string>();
        var theirs = await JsonAsync(await admin.PostAsJsonAsync("/admin/ocpi/agreements", NewAgreement("NLZZZ", "DEAGX", "locations")), HttpStatusCode.Created);

        // Reads: the eMSP and the CPO see their agreement, not the other pair's; another eMSP sees only its own.
        foreach (var reader in new[] { emsp, cpo })
        {
            var list = (await JsonAsync(await reader.GetAsync("/admin/ocpi/agreements"), HttpStatusCode.OK)).AsArray();
            Assert.Equal(id, Assert.Single(list)!["id"]!.GetValue<string>());
            await JsonAsync(await reader.GetAsync($"/admin/ocpi/agreements/{id}"), HttpStatusCode.OK);
            await JsonAsync(await reader.GetAsync($"/admin/ocpi/agreements/{theirs["id"]}"), HttpStatusCode.NotFound);
        }
        Assert.Equal(theirs["id"]!.GetValue<string>(), Assert.Single((await JsonAsync(await otherEmsp.GetAsync("/admin/ocpi/agreements"), HttpStatusCode.OK)).AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(2, (await JsonAsync(await admin.GetAsync("/admin/ocpi/agreements?emsp=DE-AGE&status=active"), HttpStatusCode.OK)).AsArray().Count
            + (await JsonAsync(await admin.GetAsync("/admin/ocpi/agreements?cpo=NL-ZZZ"), HttpStatusCode.OK)).AsArray().Count);

        // Writes: a party may not grant itself roaming, nor suspend or end anyone's.
        Assert.Equal(HttpStatusCode.Forbidden, (await emsp.PostAsJsonAsync("/admin/ocpi/agreements", NewAgreement("NLAGC", "DEAGE", "commands"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await cpo.SendAsync(WithIfMatch(HttpMethod.Put, $"/admin/ocpi/agreements/{id}", "\"0\"",
            new { scopes = new[] { "tokens", "locations" } }))).StatusCode);
        foreach (var action in new[] { "suspend", "resume", "end" })
            Assert.Equal(HttpStatusCode.Forbidden, (await otherEmsp.PostAsync($"/admin/ocpi/agreements/{id}/{action}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/ocpi/agreements")).StatusCode);
        Assert.Equal("active", (await JsonAsync(await admin.GetAsync($"/admin/ocpi/agreements/{id}"), HttpStatusCode.OK))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Changes_name_the_version_they_read_and_each_is_audited()
    {
        using var admin = f.Client(f.AdminCertificate);
        using var created = await admin.PostAsJsonAsync("/admin/ocpi/agreements", NewAgreement("NLVER", "DEVER", "tokens"));
        var agreement = await JsonAsync(created, HttpStatusCode.Created);
        var id = agreement["id"]!.GetValue<string>();
        Assert.Equal("\"0\"", created.Headers.ETag?.ToString());

        var update = new { scopes = new[] { "tokens", "sessions", "cdrs" }, validTo = "2099-01-01T00:00:00Z", status = "active" };
        Assert.Equal(428, (int)(await admin.SendAsync(WithIfMatch(HttpMethod.Put, $"/admin/ocpi/agreements/{id}", null, update))).StatusCode);
        var changed = await JsonAsync(await admin.SendAsync(WithIfMatch(HttpMethod.Put, $"/admin/ocpi/agreements/{id}", "\"0\"", update)), HttpStatusCode.OK);
        Assert.Equal(["tokens", "sessions", "cdrs"], changed["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).ToList());
        // A second operator still holding version 0 is refused instead of overwriting.
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await admin.SendAsync(WithIfMatch(HttpMethod.Put, $"/admin/ocpi/agreements/{id}", "\"0\"", update))).StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await admin.SendAsync(WithIfMatch(HttpMethod.Post, $"/admin/ocpi/agreements/{id}/suspend", "\"0\""))).StatusCode);

        // Bad input: a problem, never a 500.
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/admin/ocpi/agreements", NewAgreement("NLVER", "DEVE2", "roaming-everything"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/admin/ocpi/agreements", NewAgreement("NLVER", "DEVE2"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.SendAsync(WithIfMatch(HttpMethod.Put, $"/admin/ocpi/agreements/{id}", "\"x\"", update))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync("/admin/ocpi/agreements", NewAgreement("NLVER", "DEVER", "tokens"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/admin/ocpi/agreements/nope/suspend", null)).StatusCode);

        await JsonAsync(await admin.PostAsync($"/admin/ocpi/agreements/{id}/suspend", null), HttpStatusCode.OK);
        var ended = await JsonAsync(await admin.PostAsync($"/admin/ocpi/agreements/{id}/end", null), HttpStatusCode.OK);
        Assert.Equal("ended", ended["status"]!.GetValue<string>());
        // Ended is final; the pair may get a new agreement.
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/admin/ocpi/agreements/{id}/resume", null)).StatusCode);
        await JsonAsync(await admin.PostAsJsonAsync("/admin/ocpi/agreements", NewAgreement("NLVER", "DEVER", "tokens")), HttpStatusCode.Created);

        // create, update, suspend, end: four entries for this agreement, each with the operator as actor.
        await using var cmd = f.Db.CreateCommand("select actor, action from audit_log where subject = $1 order by seq");
        cmd.Parameters.AddWithValue("ocpi-agreement/" + id);
        var entries = new List<(string Actor, string Action)>();
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) entries.Add((reader.GetString(0), reader.GetString(1)));
        Assert.Equal(["ocpi.agreement.create", "ocpi.agreement.update", "ocpi.agreement.update", "ocpi.agreement.update"], entries.Select(e => e.Action).ToList());
        Assert.All(entries, e => Assert.StartsWith("participant:", e.Actor, StringComparison.Ordinal));
    }
}
