using System.Text.Json.Nodes;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using PlugAndCharge.Ocpi.Tests.Storage;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests.Agreements;

/// <summary>
/// Issue 24: every route between a CPO and an eMSP needs their roaming agreement. Each enforcement point refuses the
/// unagreed pair (with an OCPI status and a message naming the missing agreement) and serves the agreed one, over real
/// HTTP parties with the hub's state on PostgreSQL.
/// </summary>
public sealed class AgreementEnforcementTests(OcpiDatabaseFixture fx) : IClassFixture<OcpiDatabaseFixture>
{
    [Fact]
    public async Task Every_enforcement_point_refuses_the_unagreed_CPO_and_serves_the_agreed_one()
    {
        await using var world = await AgreementWorld.StartAsync(fx, RoamingDefault.Closed);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", AgreementWorld.NewPartyId('E'), OcpiVersion.V230);
        var agreed = await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V230);
        var unagreed = await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V230);
        await world.Hub.AgreeAsync(agreed, emsp);
        agreed.OwnLocations.Add(FakeParty.LocationExample(OcpiVersion.V230, agreed.CountryCode, agreed.PartyId, "LOCA"));
        unagreed.OwnLocations.Add(FakeParty.LocationExample(OcpiVersion.V230, unagreed.CountryCode, unagreed.PartyId, "LOCU"));
        var missing = $"No roaming agreement between CPO NL-{unagreed.PartyId} and eMSP DE-{emsp.PartyId}";

        // Token distribution: only the agreed CPO receives the eMSP's token.
        using (var put = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/{emsp.PartyId}/CARD1", emsp.Token("CARD1", "RFID")))
        {
            var (status, message, _) = await put.StatusAsync();
            Assert.Equal(1000, status);
            Assert.Matches(@"delivered to 1 of 1 CPOs with a roaming agreement covering tokens \(\d+ without\)", message); // other tests' CPOs share the database
        }
        Assert.Single(agreed.PushedTokens);
        Assert.Empty(unagreed.PushedTokens);

        // Token pull: the unagreed CPO's list does not hold the eMSP's tokens.
        Assert.Contains((await agreed.GetDataAsync(agreed.Hub("tokens", "SENDER")))!.AsArray(), t => t!["uid"]!.GetValue<string>() == "CARD1");
        Assert.DoesNotContain((await unagreed.GetDataAsync(unagreed.Hub("tokens", "SENDER")))!.AsArray(), t => t!["uid"]!.GetValue<string>() == "CARD1");

        // Real-time authorization: relayed for the agreed CPO; the token is unknown (2004) to the other, the eMSP never asked.
        using (var ok = await agreed.AuthorizeAsync("CARD1")) Assert.Equal("ALLOWED", (await ok.StatusAsync()).Data!["allowed"]!.GetValue<string>());
        using (var refused = await unagreed.AuthorizeAsync("CARD1"))
        {
            var (status, message, _) = await refused.StatusAsync();
            Assert.Equal(2004, status);
            Assert.StartsWith(missing, message);
        }
        Assert.Equal(1, emsp.AuthorizeCalls);

        // Location GET-all (open routing and via the hub): the agreed CPO's locations only.
        foreach (var headers in new[] { new Dictionary<string, string>(), emsp.ToHub() })
        {
            using var all = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("locations", "SENDER"), headers: headers);
            var ids = (await all.StatusAsync()).Data!.AsArray().Select(l => l!["id"]!.GetValue<string>()).ToList();
            Assert.Equal(["LOCA"], ids);
        }
        // A location of the unagreed CPO asked by id: unknown to this eMSP (2003), and the CPO is never asked.
        var before = unagreed.ReceivedRequests.Count;
        using (var one = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("locations", "SENDER") + "/LOCU", headers: emsp.To(unagreed)))
        {
            var (status, message, _) = await one.StatusAsync();
            Assert.Equal(2003, status);
            Assert.StartsWith(missing, message);
        }
        Assert.Equal(before, unagreed.ReceivedRequests.Count);

        // Location distribution: the unagreed CPO's broadcast reaches nobody, the agreed one's reaches the eMSP.
        using (var push = await unagreed.CallAsync(HttpMethod.Put, $"{unagreed.Hub("locations", "RECEIVER")}/NL/{unagreed.PartyId}/LOCU", unagreed.OwnLocations[0]))
            Assert.Equal(1000, (await push.StatusAsync()).Status);
        using (var push = await agreed.CallAsync(HttpMethod.Put, $"{agreed.Hub("locations", "RECEIVER")}/NL/{agreed.PartyId}/LOCA", agreed.OwnLocations[0]))
            Assert.Equal(1000, (await push.StatusAsync()).Status);
        Assert.Equal(["LOCA"], emsp.PushedLocations.Keys.ToList());

        // Sessions addressed to the eMSP: forwarded for the agreed CPO, refused (2000) for the other.
        foreach (var cpo in new[] { agreed, unagreed })
        {
            using var s = await cpo.CallAsync(HttpMethod.Put, $"{cpo.Hub("sessions", "RECEIVER")}/NL/{cpo.PartyId}/S-{cpo.PartyId}",
                Example("session", cpo, "S-" + cpo.PartyId), cpo.To(emsp));
            var (status, message, _) = await s.StatusAsync();
            Assert.Equal(cpo == agreed ? 1000 : 2000, status);
            if (cpo == unagreed) Assert.StartsWith(missing, message);
        }
        Assert.Equal([$"S-{agreed.PartyId}"], emsp.PushedSessions.Keys.ToList());

        // hubclientinfo and the 2.3.0 credentials list only the parties the eMSP may reach.
        var infos = (await emsp.GetDataAsync(emsp.Hub("hubclientinfo", "SENDER")))!.AsArray().Select(i => i!["party_id"]!.GetValue<string>()).ToList();
        Assert.Contains(agreed.PartyId, infos);
        Assert.DoesNotContain(unagreed.PartyId, infos);
        var roles = (await emsp.GetDataAsync(emsp.Hub("credentials", "SENDER")))!["roles"]!.AsArray().Select(r => r!["party_id"]!.GetValue<string>()).ToList();
        Assert.Contains(agreed.PartyId, roles);
        Assert.DoesNotContain(unagreed.PartyId, roles);
        world.Traffic.AssertConformant(10);

        // CDRs (after the OpenAPI check: the hub does not pass the eMSP's Location header back to the CPO) and commands
        // (not in the bundled OpenAPI): forwarded for the agreed CPO, refused (2000) for the other.
        foreach (var cpo in new[] { agreed, unagreed })
        {
            using var c = await cpo.CallAsync(HttpMethod.Post, cpo.Hub("cdrs", "RECEIVER"), Example("cdr", cpo, "CDR-" + cpo.PartyId), cpo.To(emsp));
            if (cpo == agreed) Assert.Equal(201, (int)c.StatusCode);
            else Assert.StartsWith(missing, (await c.StatusAsync()).Message);
        }
        Assert.Equal([$"CDR-{agreed.PartyId}"], emsp.PushedCdrs.Keys.ToList());

        // Commands: forwarded to the agreed CPO, refused for the other.
        foreach (var cpo in new[] { agreed, unagreed })
        {
            var command = new JsonObject
            {
                ["response_url"] = $"{emsp.BaseUrl}/ocpi/2.3.0/emsp/command-results/R-{cpo.PartyId}", ["token"] = emsp.Token("CARD1", "RFID"),
                ["location_id"] = "LOC1", ["evse_uid"] = "EVSE1",
            };
            using var sent = await emsp.CallAsync(HttpMethod.Post, world.Hub.BaseUrl + "/ocpi/2.3.0/receiver/commands/START_SESSION", command, emsp.To(cpo));
            var (status, message, _) = await sent.StatusAsync();
            if (cpo == agreed) Assert.Equal(1000, status);
            else { Assert.Equal(2000, status); Assert.StartsWith(missing, message); }
        }
        Assert.Single(agreed.Commands);
        Assert.Empty(unagreed.Commands);

        // A party reads its own agreements from the hub (token C), and no one else's.
        var own = (await emsp.GetDataAsync(world.Hub.BaseUrl + "/ocpi/2.3.0/hub/agreements"))!.AsArray();
        Assert.Equal(agreed.PartyId, Assert.Single(own)!["cpo"]!["party_id"]!.GetValue<string>());
        Assert.Empty((await unagreed.GetDataAsync(world.Hub.BaseUrl + "/ocpi/2.3.0/hub/agreements"))!.AsArray());
    }

    [Fact]
    public async Task The_Plug_and_Charge_short_cut_answers_only_CPOs_whose_agreement_covers_it()
    {
        await using var world = await AgreementWorld.StartAsync(fx, RoamingDefault.Closed);
        var pid = AgreementWorld.NewPartyId('E');
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", pid, OcpiVersion.V230, providerPrefixes: ["DE" + pid]);
        var withPnc = await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V230);
        var relayOnly = await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V230);
        await world.Hub.AgreeAsync(withPnc, emsp, [AgreementScope.PlugAndCharge]);
        await world.Hub.AgreeAsync(relayOnly, emsp, [AgreementScope.RealTimeAuthorization]);
        var revoked = Emaid.Create("DE", pid, "C00000001");
        world.Hub.Contracts.Set(revoked, ContractState.Active, ContractCertificateState.Revoked);

        using (var blocked = await withPnc.AuthorizeAsync(revoked.Normalized, "EMAID"))
            Assert.Equal("BLOCKED", (await blocked.StatusAsync()).Data!["allowed"]!.GetValue<string>());
        using (var refused = await relayOnly.AuthorizeAsync(revoked.Normalized, "EMAID"))
        {
            var (status, message, _) = await refused.StatusAsync();
            Assert.Equal(2004, status);
            Assert.Contains("does not cover PlugAndCharge", message);
        }
        // A contract the short-cut leaves to the eMSP: relayed for the CPO with real-time authorization, refused for the other.
        var valid = Emaid.Create("DE", pid, "C00000002");
        using (var relayed = await relayOnly.AuthorizeAsync(valid.Normalized, "EMAID"))
            Assert.Equal("ALLOWED", (await relayed.StatusAsync()).Data!["allowed"]!.GetValue<string>());
        using (var refused = await withPnc.AuthorizeAsync(valid.Normalized, "EMAID"))
            Assert.Contains("does not cover RealTimeAuthorization", (await refused.StatusAsync()).Message);
        Assert.Equal(1, emsp.AuthorizeCalls);
        world.Traffic.AssertConformant(4);
    }

    [Fact]
    public async Task Suspended_ended_and_out_of_validity_agreements_refuse_even_under_an_open_default()
    {
        await using var world = await AgreementWorld.StartAsync(fx, RoamingDefault.Open);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", AgreementWorld.NewPartyId('E'), OcpiVersion.V221);
        var now = DateTimeOffset.UtcNow;
        var admin = world.Hub.Agreements();
        async Task<FakeParty> Cpo() => await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V230);
        var active = await Cpo();
        var noAgreement = await Cpo();
        var suspended = await Cpo();
        var ended = await Cpo();
        var notYet = await Cpo();
        var expired = await Cpo();
        await world.Hub.AgreeAsync(active, emsp, validFrom: now.AddDays(-1), validTo: now.AddDays(1));
        await admin.SuspendAsync((await world.Hub.AgreeAsync(suspended, emsp)).Id, null, "test");
        await admin.EndAsync((await world.Hub.AgreeAsync(ended, emsp)).Id, null, "test");
        await world.Hub.AgreeAsync(notYet, emsp, validFrom: now.AddDays(1));
        await world.Hub.AgreeAsync(expired, emsp, validFrom: now.AddDays(-10), validTo: now.AddDays(-1));

        using (var put = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/{emsp.PartyId}/CARD2", emsp.Token("CARD2", "RFID")))
            Assert.Equal(1000, (await put.StatusAsync()).Status);
        Assert.Single(active.PushedTokens);
        Assert.Single(noAgreement.PushedTokens); // the open default
        foreach (var cpo in new[] { suspended, ended, notYet, expired }) Assert.Empty(cpo.PushedTokens);

        Assert.Equal(1000, (await (await active.AuthorizeAsync("CARD2")).StatusAsync()).Status);
        Assert.Equal(1000, (await (await noAgreement.AuthorizeAsync("CARD2")).StatusAsync()).Status);
        foreach (var (cpo, why) in new[] { (suspended, "is suspended"), (ended, "is ended"), (notYet, "is valid only from"), (expired, "ended on") })
        {
            var (status, message, _) = await (await cpo.AuthorizeAsync("CARD2")).StatusAsync();
            Assert.Equal(2004, status);
            Assert.Contains(why, message);
            Assert.Contains($"CPO NL-{cpo.PartyId} and eMSP DE-{emsp.PartyId}", message);
        }
        world.Traffic.AssertConformant(6);
    }

    [Fact]
    public async Task A_closed_default_refuses_pairs_without_an_agreement_and_an_open_one_lets_them_roam()
    {
        foreach (var roamingDefault in new[] { RoamingDefault.Open, RoamingDefault.Closed })
        {
            await using var world = await AgreementWorld.StartAsync(fx, roamingDefault);
            var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", AgreementWorld.NewPartyId('E'), OcpiVersion.V230);
            var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", AgreementWorld.NewPartyId('C'), OcpiVersion.V221);
            using var put = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/{emsp.PartyId}/CARD3", emsp.Token("CARD3", "RFID"));
            var (status, message, _) = await (await cpo.AuthorizeAsync("CARD3")).StatusAsync();
            if (roamingDefault == RoamingDefault.Open)
            {
                Assert.Single(cpo.PushedTokens);
                Assert.Equal(1000, status);
            }
            else
            {
                Assert.Empty(cpo.PushedTokens);
                Assert.Equal(2004, status);
                Assert.Contains("the hub's default is closed", message);
            }
            world.Traffic.AssertConformant(2);
        }
    }

    private static JsonObject Example(string kind, FakeParty cpo, string id)
    {
        var o = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", $"{kind}-2.3.0.json")))!.AsObject();
        o["country_code"] = cpo.CountryCode; o["party_id"] = cpo.PartyId; o["id"] = id;
        // The official 2.3.0 CDR example predates the required Tariff.tax_included.
        foreach (var tariff in o["tariffs"]?.AsArray() ?? []) tariff!["tax_included"] ??= "NO";
        return o;
    }
}
