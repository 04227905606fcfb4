using System.Net;
using System.Text.Json.Nodes;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests;

public sealed class TokenTests
{
    private const string Emaid = "DE8ACC12345678J";

    [Fact]
    public async Task An_eMSP_push_is_stored_and_broadcast_to_every_CPO_in_its_own_version()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo221 = await world.AddPartyAsync(Roles.Cpo, "NL", "OLD", OcpiVersion.V221);
        var cpo230 = await world.AddPartyAsync(Roles.Cpo, "NL", "NEW", OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "8AC", OcpiVersion.V230);

        var correlation = Guid.NewGuid().ToString();
        using var put = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/8AC/{Emaid}?type=EMAID", emsp.Token(Emaid, "EMAID"), correlationId: correlation);
        Assert.Equal(1000, (await put.EnvelopeAsync())["status_code"]!.GetValue<int>());

        // 2.2.1 CPO: OTHER with the EMAID in uid and contract_id; 2.3.0 CPO: EMAID.
        var old = Assert.Single(cpo221.PushedTokens);
        Assert.Equal($"DE/8AC/{Emaid}?OTHER", old.Key);
        Assert.Equal("OTHER", old.Value["type"]!.GetValue<string>());
        Assert.Equal(Emaid, old.Value["contract_id"]!.GetValue<string>());
        var neu = Assert.Single(cpo230.PushedTokens);
        Assert.Equal($"DE/8AC/{Emaid}?EMAID", neu.Key);
        Assert.Equal("EMAID", neu.Value["type"]!.GetValue<string>());
        // The push kept the correlation ID, with a new request ID per hop.
        var hop = cpo230.ReceivedRequests.Single(r => r.Method == "PUT" && r.Path.Contains("/tokens/"));
        Assert.Equal(correlation, hop.Headers["X-Correlation-ID"]);
        Assert.NotEqual(put.RequestMessage!.Headers.GetValues("X-Request-ID").Single(), hop.Headers["X-Request-ID"]);
        Assert.Equal("DE", hop.Headers["OCPI-from-country-code"]);
        Assert.Equal("NEW", hop.Headers["OCPI-to-party-id"]);

        // PATCH: stored, merged, broadcast.
        using var patch = await emsp.CallAsync(HttpMethod.Patch, $"{emsp.Hub("tokens", "RECEIVER")}/DE/8AC/{Emaid}?type=EMAID",
            new JsonObject { ["valid"] = false, ["last_updated"] = "2026-01-02T10:00:00Z" });
        Assert.Equal(1000, (await patch.EnvelopeAsync())["status_code"]!.GetValue<int>());
        Assert.False(cpo221.PushedTokens.Single().Value["valid"]!.GetValue<bool>());
        using var get = await emsp.CallAsync(HttpMethod.Get, $"{emsp.Hub("tokens", "RECEIVER")}/DE/8AC/{Emaid}?type=EMAID");
        Assert.False((await get.EnvelopeAsync())["data"]!["valid"]!.GetValue<bool>());

        // An eMSP cannot push tokens of another party.
        using var foreign = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/NL/OLD/X1?type=RFID", emsp.Token("X1", "RFID"));
        Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);
        // PATCH of a token never pushed: 2004.
        using var unknown = await emsp.CallAsync(HttpMethod.Patch, $"{emsp.Hub("tokens", "RECEIVER")}/DE/8AC/NOPE?type=RFID",
            new JsonObject { ["valid"] = false, ["last_updated"] = "2026-01-02T10:00:00Z" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        world.Traffic.AssertConformant(10);
    }

    [Fact]
    public async Task CPOs_pull_tokens_page_by_page_with_Link_X_Total_Count_and_X_Limit()
    {
        await using var world = await HubWorld.StartAsync(o => o.MaxPageSize = 3);
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "OLD", OcpiVersion.V221);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "8AC", OcpiVersion.V230);
        for (var i = 0; i < 7; i++)
        {
            var t = emsp.Token($"RFID{i:00}", "RFID");
            t["last_updated"] = $"2026-01-0{i + 1}T10:00:00Z";
            using var r = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/8AC/RFID{i:00}?type=RFID", t);
        }
        using var emaidPut = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/8AC/{Emaid}?type=EMAID", emsp.Token(Emaid, "EMAID"));

        var seen = new List<JsonNode>();
        var url = cpo.Hub("tokens", "SENDER") + "?limit=10";
        var pages = 0;
        while (url != null)
        {
            using var page = await cpo.CallAsync(HttpMethod.Get, url);
            Assert.Equal("8", page.Headers.GetValues("X-Total-Count").Single());
            Assert.Equal("3", page.Headers.GetValues("X-Limit").Single());
            seen.AddRange((await page.EnvelopeAsync())["data"]!.AsArray().Select(n => n!.DeepClone()));
            url = page.Headers.TryGetValues("Link", out var link) ? link.Single().Split('<', '>')[1] : null;
            pages++;
        }
        Assert.Equal(3, pages);
        Assert.Equal(8, seen.Count);
        Assert.Equal(8, seen.Select(t => t!["uid"]!.GetValue<string>()).Distinct().Count());
        // The 2.2.1 CPO sees the EMAID as OTHER.
        Assert.Equal("OTHER", seen.Single(t => t!["uid"]!.GetValue<string>() == Emaid)!["type"]!.GetValue<string>());

        using var window = await cpo.CallAsync(HttpMethod.Get, cpo.Hub("tokens", "SENDER") + "?date_from=2026-01-02T00:00:00Z&date_to=2026-01-04T00:00:00Z");
        Assert.Equal(2, (await window.EnvelopeAsync())["data"]!.AsArray().Count);
        world.Traffic.AssertConformant(12);

        // Deliberately outside the OpenAPI (offset < 0), so after the conformance check.
        using var bad = await cpo.CallAsync(HttpMethod.Get, cpo.Hub("tokens", "SENDER") + "?offset=-1");
        Assert.Equal(2001, (await bad.EnvelopeAsync())["status_code"]!.GetValue<int>());
    }
}
