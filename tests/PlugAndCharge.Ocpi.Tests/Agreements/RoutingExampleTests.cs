using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using PlugAndCharge.Ocpi.Tests.Storage;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests.Agreements;

/// <summary>
/// The message-routing sequence diagrams of OCPI 2.2.1 and 2.3.0 (identical in both; Examples/Routing), replayed
/// against the hub with parties of both versions, each reaching only the parties its agreements allow.
/// </summary>
public sealed class RoutingExampleTests(OcpiDatabaseFixture fx) : IClassFixture<OcpiDatabaseFixture>
{
    /// <summary>sd_put_boardcast: CPO1 PUT "TO: HUB, FROM: CPO1"; the hub PUTs "TO: MSPn, FROM: HUB" to each (agreed) eMSP.</summary>
    [Theory]
    [InlineData(OcpiVersion.V221)]
    [InlineData(OcpiVersion.V230)]
    public async Task Broadcast_push_names_the_hub_and_reaches_the_agreed_eMSPs_from_the_hub(OcpiVersion version)
    {
        await using var world = await AgreementWorld.StartAsync(fx, RoamingDefault.Closed);
        var cpo1 = await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), version);
        var msp = new List<FakeParty>();
        for (var i = 0; i < 3; i++) msp.Add(await world.AddPartyAsync(Roles.Emsp, "DE", AgreementWorld.NewPartyId('E'), i == 1 ? OcpiVersion.V221 : OcpiVersion.V230));
        await world.Hub.AgreeAsync(cpo1, msp[0], [AgreementScope.Locations]);
        await world.Hub.AgreeAsync(cpo1, msp[1], [AgreementScope.Locations]);
        var location = FakeParty.LocationExample(version, cpo1.CountryCode, cpo1.PartyId, "LOC1");

        using var put = await cpo1.CallAsync(HttpMethod.Put, $"{cpo1.Hub("locations", "RECEIVER")}/NL/{cpo1.PartyId}/LOC1", location, cpo1.ToHub());
        var (status, message, _) = await put.StatusAsync();
        Assert.Equal(1000, status);
        Assert.Equal("Broadcast to 2 of 2 agreed parties implementing locations.", message);
        foreach (var m in msp.Take(2))
        {
            var hop = m.ReceivedRequests.Single(r => r.Method == "PUT" && r.Path.Contains("/receiver/locations/", StringComparison.Ordinal));
            Assert.Equal(("DE", "HUB", m.CountryCode, m.PartyId),
                (hop.Headers["OCPI-from-country-code"], hop.Headers["OCPI-from-party-id"], hop.Headers["OCPI-to-country-code"], hop.Headers["OCPI-to-party-id"]));
            // Client-owned objects keep the original owner in the URL (2.2.1/2.3.0 Broadcast Push, NOTE).
            Assert.EndsWith($"/NL/{cpo1.PartyId}/LOC1", hop.Path, StringComparison.Ordinal);
        }
        Assert.Empty(msp[2].PushedLocations);
        world.Traffic.AssertConformant(3);
    }

    /// <summary>sd_get_openrouting: no TO headers; the hub determines the receivers and forwards "TO: MSPn, FROM: CPO1".</summary>
    [Fact]
    public async Task Open_routing_push_without_to_headers_goes_to_the_agreed_eMSPs_from_the_sender()
    {
        await using var world = await AgreementWorld.StartAsync(fx, RoamingDefault.Closed);
        var cpo1 = await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V230);
        var msp2 = await world.AddPartyAsync(Roles.Emsp, "DE", AgreementWorld.NewPartyId('E'), OcpiVersion.V230);
        var msp3 = await world.AddPartyAsync(Roles.Emsp, "DE", AgreementWorld.NewPartyId('E'), OcpiVersion.V230);
        await world.Hub.AgreeAsync(cpo1, msp2, [AgreementScope.Locations]);

        using var put = await cpo1.CallAsync(HttpMethod.Put, $"{cpo1.Hub("locations", "RECEIVER")}/NL/{cpo1.PartyId}/LOC2",
            FakeParty.LocationExample(OcpiVersion.V230, cpo1.CountryCode, cpo1.PartyId, "LOC2"));
        Assert.Equal(1000, (await put.StatusAsync()).Status);
        var hop = msp2.ReceivedRequests.Single(r => r.Method == "PUT" && r.Path.Contains("/receiver/locations/", StringComparison.Ordinal));
        Assert.Equal((cpo1.PartyId, msp2.PartyId), (hop.Headers["OCPI-from-party-id"], hop.Headers["OCPI-to-party-id"]));
        Assert.Empty(msp3.PushedLocations);
        world.Traffic.AssertConformant(2);
    }

    /// <summary>
    /// sd_get_all: eMSPs PUT their tokens "TO: HUB"; CPO1 GETs "TO: HUB" and the hub answers from what it holds: the
    /// tokens of the eMSPs whose agreement with CPO1 covers tokens. The same GET All of locations from an eMSP merges
    /// the agreed CPOs' lists.
    /// </summary>
    [Fact]
    public async Task GET_All_via_the_hub_is_served_by_the_hub_for_the_agreed_parties()
    {
        await using var world = await AgreementWorld.StartAsync(fx, RoamingDefault.Closed);
        var cpo1 = await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V221);
        var cpo2 = await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V230);
        var msps = new List<FakeParty>();
        for (var i = 0; i < 3; i++)
        {
            var m = await world.AddPartyAsync(Roles.Emsp, "DE", AgreementWorld.NewPartyId('E'), OcpiVersion.V230);
            msps.Add(m);
            if (i < 2) await world.Hub.AgreeAsync(cpo1, m, [AgreementScope.Tokens, AgreementScope.Locations]);
            using var put = await m.CallAsync(HttpMethod.Put, $"{m.Hub("tokens", "RECEIVER")}/DE/{m.PartyId}/T{i}", m.Token($"T{i}", "RFID"), m.ToHub());
            Assert.Equal(1000, (await put.StatusAsync()).Status);
        }
        using var all = await cpo1.CallAsync(HttpMethod.Get, cpo1.Hub("tokens", "SENDER"), headers: cpo1.ToHub());
        var owners = (await all.StatusAsync()).Data!.AsArray().Select(t => t!["party_id"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(msps.Take(2).Select(m => m.PartyId).Order().ToList(), owners);

        cpo1.OwnLocations.Add(FakeParty.LocationExample(OcpiVersion.V221, cpo1.CountryCode, cpo1.PartyId, "L1"));
        cpo2.OwnLocations.Add(FakeParty.LocationExample(OcpiVersion.V230, cpo2.CountryCode, cpo2.PartyId, "L2"));
        using var locations = await msps[0].CallAsync(HttpMethod.Get, msps[0].Hub("locations", "SENDER"), headers: msps[0].ToHub());
        Assert.Equal(["L1"], (await locations.StatusAsync()).Data!.AsArray().Select(l => l!["id"]!.GetValue<string>()).ToList());
        world.Traffic.AssertConformant(5);
    }
}
