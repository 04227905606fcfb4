using System.Net;
using System.Text.Json.Nodes;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests;

/// <summary>Locations (and the other routed modules) go through the hub by the OCPI-to/from-* headers.</summary>
public sealed class RoutingTests
{
    [Fact]
    public async Task Direct_forwarding_broadcast_push_and_merged_GET_all()
    {
        await using var world = await HubWorld.StartAsync();
        var cpoA = await world.AddPartyAsync(Roles.Cpo, "BE", "BEC", OcpiVersion.V230);
        var cpoB = await world.AddPartyAsync(Roles.Cpo, "NL", "CPB", OcpiVersion.V230);
        var emsp1 = await world.AddPartyAsync(Roles.Emsp, "DE", "EM1", OcpiVersion.V230);
        var emsp2 = await world.AddPartyAsync(Roles.Emsp, "DE", "EM2", OcpiVersion.V230);
        for (var i = 1; i <= 3; i++) cpoA.OwnLocations.Add(FakeParty.LocationExample(OcpiVersion.V230, "BE", "BEC", $"LOCA{i}"));
        cpoB.OwnLocations.Add(FakeParty.LocationExample(OcpiVersion.V230, "NL", "CPB", "LOCB1"));

        // Direct: one location of one CPO.
        var correlation = Guid.NewGuid().ToString();
        using var one = await emsp1.CallAsync(HttpMethod.Get, emsp1.Hub("locations", "SENDER") + "/LOCA2", headers: emsp1.To(cpoA), correlationId: correlation);
        Assert.Equal("LOCA2", (await one.EnvelopeAsync())["data"]!["id"]!.GetValue<string>());
        var hop = cpoA.ReceivedRequests.Single(r => r.Path.EndsWith("/LOCA2", StringComparison.Ordinal));
        Assert.Equal(correlation, hop.Headers["X-Correlation-ID"]);
        Assert.Equal("EM1", hop.Headers["OCPI-from-party-id"]);

        // A page from one CPO: its Link now points at the hub.
        using var page = await emsp1.CallAsync(HttpMethod.Get, emsp1.Hub("locations", "SENDER") + "?limit=2", headers: emsp1.To(cpoA));
        Assert.Equal("3", page.Headers.GetValues("X-Total-Count").Single());
        Assert.StartsWith($"<{world.Hub.BaseUrl}/ocpi/2.3.0/sender/locations?offset=2", page.Headers.GetValues("Link").Single());

        // Error of the receiver comes back as it was.
        using var missing = await emsp1.CallAsync(HttpMethod.Get, emsp1.Hub("locations", "SENDER") + "/NOPE", headers: emsp1.To(cpoA));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(2003, (await missing.EnvelopeAsync())["status_code"]!.GetValue<int>());

        // GET-all without routing headers: merged across both CPOs.
        using var all = await emsp1.CallAsync(HttpMethod.Get, emsp1.Hub("locations", "SENDER"));
        var ids = (await all.EnvelopeAsync())["data"]!.AsArray().Select(l => l!["id"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["LOCA1", "LOCA2", "LOCA3", "LOCB1"], ids);
        Assert.Equal("4", all.Headers.GetValues("X-Total-Count").Single());

        // Broadcast push: a CPO's PUT without routing headers reaches every eMSP.
        using var push = await cpoA.CallAsync(HttpMethod.Put, cpoA.Hub("locations", "RECEIVER") + "/BE/BEC/LOCA1", cpoA.OwnLocations[0].DeepClone());
        Assert.Equal(1000, (await push.EnvelopeAsync())["status_code"]!.GetValue<int>());
        Assert.True(emsp1.PushedLocations.ContainsKey("LOCA1"));
        Assert.True(emsp2.PushedLocations.ContainsKey("LOCA1"));

        // Unknown receiver: 4001.
        var headers = emsp1.To(cpoA);
        headers["OCPI-to-party-id"] = "ZZZ";
        using var unknown = await emsp1.CallAsync(HttpMethod.Get, emsp1.Hub("locations", "SENDER") + "/LOCA2", headers: headers);
        Assert.Equal(4001, (await unknown.EnvelopeAsync())["status_code"]!.GetValue<int>());

        // Receiver offline: 4003.
        await cpoB.StopServerAsync();
        using var offline = await emsp1.CallAsync(HttpMethod.Get, emsp1.Hub("locations", "SENDER") + "/LOCB1", headers: emsp1.To(cpoB));
        Assert.Equal(4003, (await offline.EnvelopeAsync())["status_code"]!.GetValue<int>());
        world.Traffic.AssertConformant(12);
    }

    [Fact]
    public async Task A_2_2_1_eMSP_reads_a_2_2_1_CPO_location_through_the_hub()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "BE", "BEC", OcpiVersion.V221);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "EM1", OcpiVersion.V221);
        cpo.OwnLocations.Add(FakeParty.LocationExample(OcpiVersion.V221, "BE", "BEC", "LOC1"));
        using var one = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("locations", "SENDER") + "/LOC1", headers: emsp.To(cpo));
        Assert.Equal("LOC1", (await one.EnvelopeAsync())["data"]!["id"]!.GetValue<string>());
        world.Traffic.AssertConformant(2);
    }

    [Fact]
    public async Task A_command_result_comes_back_through_the_hub_at_a_one_time_response_url()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CMD", OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "CME", OcpiVersion.V230);
        var other = await world.AddPartyAsync(Roles.Cpo, "BE", "OTH", OcpiVersion.V230);
        var ownUrl = $"{emsp.BaseUrl}/ocpi/2.3.0/emsp/command-results/REF1";
        var command = new JsonObject
        {
            ["response_url"] = ownUrl, ["token"] = emsp.Token("CARD7", "RFID"), ["location_id"] = "LOC1", ["evse_uid"] = "EVSE1",
        };
        using var sent = await emsp.CallAsync(HttpMethod.Post, world.Hub.BaseUrl + "/ocpi/2.3.0/receiver/commands/START_SESSION", command, emsp.To(cpo));
        var envelope = await sent.EnvelopeAsync();
        Assert.Equal(1000, envelope["status_code"]!.GetValue<int>());
        Assert.Equal("ACCEPTED", envelope["data"]!["result"]!.GetValue<string>());

        // The CPO got the command with the hub's own response_url, never the eMSP's.
        Assert.True(cpo.Commands.TryDequeue(out var received));
        Assert.Equal("START_SESSION", received.Command);
        var hubUrl = received.Body["response_url"]!.GetValue<string>();
        Assert.StartsWith(world.Hub.BaseUrl + "/ocpi/2.3.0/hub/commandresult/", hubUrl, StringComparison.Ordinal);
        Assert.DoesNotContain(emsp.BaseUrl, received.Body.ToJsonString(), StringComparison.Ordinal);

        // Another party cannot post the result; the CPO can, once; the eMSP gets it at its own URL.
        var result = new JsonObject { ["result"] = "ACCEPTED" };
        using (var forged = await other.CallAsync(HttpMethod.Post, hubUrl, result)) Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        using (var posted = await cpo.CallAsync(HttpMethod.Post, hubUrl, result))
        {
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            Assert.Equal(1000, (await posted.EnvelopeAsync())["status_code"]!.GetValue<int>());
        }
        Assert.True(emsp.CommandResults.TryDequeue(out var delivered));
        Assert.Equal("REF1", delivered.Reference);
        Assert.Equal("ACCEPTED", delivered.Body["result"]!.GetValue<string>());
        using (var again = await cpo.CallAsync(HttpMethod.Post, hubUrl, result)) Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Empty(emsp.CommandResults);
    }
}
