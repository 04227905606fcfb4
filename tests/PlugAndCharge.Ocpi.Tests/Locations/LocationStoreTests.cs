using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Locations;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Routing;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using PlugAndCharge.Ocpi.Tests.Storage;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Storage.Ocpi;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests.Locations;

/// <summary>
/// Issue 24 item 3: the hub keeps what CPOs push (PostgreSQL) and serves eMSPs from it, per roaming agreement; pushes
/// reach the eMSPs that receive them; a pull-only CPO is polled from its last sync; a restart keeps everything.
/// </summary>
public sealed class LocationStoreTests(OcpiDatabaseFixture fx) : IClassFixture<OcpiDatabaseFixture>
{
    /// <summary>Agreements for the test: only the listed eMSPs (country-party) roam with every CPO.</summary>
    private sealed class OnlyThese(params string[] emsps) : IRoamingAgreements
    {
        public ValueTask<AgreementDecision> DecideAsync(RoamingParty cpo, RoamingParty emsp, AgreementScope scope, CancellationToken ct) =>
            ValueTask.FromResult(emsps.Contains(emsp.ToString()) ? AgreementDecision.Allow : AgreementDecision.Refuse($"No agreement between {cpo} and {emsp} for {scope}."));
    }

    private Task<HubWorld> StartAsync(Action<OcpiHubOptions>? configure = null, IRoamingAgreements? agreements = null) =>
        HubWorld.StartAsync(o => { o.StorePollInterval = TimeSpan.Zero; o.StorePushRetryInterval = TimeSpan.Zero; configure?.Invoke(o); }, s => Postgres(s, agreements));

    private void Postgres(IServiceCollection s, IRoamingAgreements? agreements)
    {
        s.AddSingleton<IOcpiPartyStore>(new PostgresOcpiPartyStore(fx.Db, fx.DataAtRestKey));
        s.AddSingleton<IOcpiTokenStore>(new PostgresOcpiTokenStore(fx.Db));
        s.AddSingleton<ICommandCallbackStore>(new PostgresCommandCallbackStore(fx.Db));
        s.AddSingleton<IHubObjectStore>(new PostgresHubObjectStore(fx.Db));
        s.AddSingleton<IPushRetryStore>(new PostgresPushRetryStore(fx.Db));
        s.AddSingleton<IPullSyncStore>(new PostgresPullSyncStore(fx.Db));
        if (agreements != null) s.AddSingleton(agreements);
        s.AddOcpiLocationStore();
    }

    private static int _next;

    /// <summary>A party ID (3 characters) no other test of the shared database uses.</summary>
    private static string Unique(string prefix) => prefix + (Interlocked.Increment(ref _next) % 100).ToString("D2", System.Globalization.CultureInfo.InvariantCulture);

    private static JsonObject Location(FakeParty cpo, string id, string lastUpdated)
    {
        var l = FakeParty.LocationExample(cpo.Version, cpo.CountryCode, cpo.PartyId, id);
        l["last_updated"] = lastUpdated;
        return l;
    }

    private static async Task<int> Status(HttpResponseMessage r) => (await r.EnvelopeAsync())["status_code"]!.GetValue<int>();

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++) await Task.Delay(25);
        Assert.True(condition(), "timed out waiting for the push");
    }

    [Fact]
    public async Task CPO_pushes_are_served_to_eMSPs_from_the_store_with_paging_date_filters_and_one_object_even_with_the_CPO_down()
    {
        await using var world = await StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "BE", Unique("S"), OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", Unique("E"), OcpiVersion.V221);
        var receiver = cpo.Hub("locations", "RECEIVER");
        for (var i = 1; i <= 3; i++)
        {
            using var put = await cpo.CallAsync(HttpMethod.Put, $"{receiver}/BE/{cpo.PartyId}/L{i}", Location(cpo, $"L{i}", $"2026-01-0{i}T10:00:00Z"));
            Assert.Equal(1000, await Status(put));
        }
        // An EVSE status PATCH moves the Location's last_updated along.
        using (var patch = await cpo.CallAsync(HttpMethod.Patch, $"{receiver}/BE/{cpo.PartyId}/L1/3256",
                   new JsonObject { ["status"] = "CHARGING", ["last_updated"] = "2026-01-05T10:00:00Z" }))
            Assert.Equal(1000, await Status(patch));
        await cpo.StopServerAsync(); // everything below is served by the hub alone

        var sender = emsp.Hub("locations", "SENDER");
        // The database is shared by this class's tests: the CPO is named (OCPI-to-*), the date window below needs no name.
        using var first = await emsp.CallAsync(HttpMethod.Get, sender + "?limit=2", headers: emsp.To(cpo));
        var page1 = (await first.EnvelopeAsync())["data"]!.AsArray();
        Assert.Equal(["L2", "L3"], page1.Select(l => l!["id"]!.GetValue<string>()));
        Assert.Equal("3", first.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal("2", first.Headers.GetValues("X-Limit").Single());
        var link = first.Headers.GetValues("Link").Single();
        Assert.StartsWith($"<{world.Hub.BaseUrl}/ocpi/2.2.1/sender/locations?offset=2&limit=2", link);
        using var second = await emsp.CallAsync(HttpMethod.Get, link[1..link.IndexOf('>')], headers: emsp.To(cpo));
        var page2 = (await second.EnvelopeAsync())["data"]!.AsArray();
        Assert.Equal("L1", page2.Single()!["id"]!.GetValue<string>());
        Assert.Equal("CHARGING", page2[0]!["evses"]![0]!["status"]!.GetValue<string>());
        Assert.False(second.Headers.Contains("Link"));

        // date_from inclusive, date_to exclusive (2.2.1 §4.1.3).
        using var window = await emsp.CallAsync(HttpMethod.Get, sender + "?date_from=2026-01-02T10:00:00Z&date_to=2026-01-05T10:00:00Z");
        Assert.Equal(["L2", "L3"], (await window.EnvelopeAsync())["data"]!.AsArray().Select(l => l!["id"]!.GetValue<string>()));
        Assert.Equal("2", window.Headers.GetValues("X-Total-Count").Single());

        // One Location, one EVSE, one Connector.
        using var one = await emsp.CallAsync(HttpMethod.Get, sender + "/L2");
        Assert.Equal("L2", (await one.EnvelopeAsync())["data"]!["id"]!.GetValue<string>());
        using var evse = await emsp.CallAsync(HttpMethod.Get, sender + "/L1/3256");
        Assert.Equal("CHARGING", (await evse.EnvelopeAsync())["data"]!["status"]!.GetValue<string>());
        using var connector = await emsp.CallAsync(HttpMethod.Get, sender + "/L1/3256/2");
        Assert.Equal("2", (await connector.EnvelopeAsync())["data"]!["id"]!.GetValue<string>());
        using var missing = await emsp.CallAsync(HttpMethod.Get, sender + "/NOPE");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(2003, await Status(missing));
        world.Traffic.AssertConformant(12);
    }

    [Fact]
    public async Task Pushes_reach_the_eMSPs_that_roam_with_the_CPO_and_no_others()
    {
        var em1 = Unique("A");
        await using var world = await StartAsync(agreements: new OnlyThese($"DE-{em1}"));
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", Unique("C"), OcpiVersion.V230);
        var agreed = await world.AddPartyAsync(Roles.Emsp, "DE", em1, OcpiVersion.V230);
        var other = await world.AddPartyAsync(Roles.Emsp, "DE", Unique("B"), OcpiVersion.V230);
        var receiver = cpo.Hub("locations", "RECEIVER");
        using (var put = await cpo.CallAsync(HttpMethod.Put, $"{receiver}/NL/{cpo.PartyId}/P1", Location(cpo, "P1", "2026-02-01T10:00:00Z")))
            Assert.Equal(1000, await Status(put));
        using (var patch = await cpo.CallAsync(HttpMethod.Patch, $"{receiver}/NL/{cpo.PartyId}/P1/3257",
                   new JsonObject { ["status"] = "AVAILABLE", ["last_updated"] = "2026-02-01T11:00:00Z" }))
            Assert.Equal(1000, await Status(patch));

        await WaitForAsync(() => agreed.LocationPushes.Count >= 2);
        var pushes = agreed.LocationPushes.ToList();
        Assert.Contains(pushes, p => p.Method == "PUT" && p.Path == $"NL/{cpo.PartyId}/P1");
        Assert.Contains(pushes, p => p.Method == "PATCH" && p.Path == $"NL/{cpo.PartyId}/P1/3257" && p.Body["status"]!.GetValue<string>() == "AVAILABLE");
        var hop = agreed.ReceivedRequests.First(r => r.Path.EndsWith("/P1/3257", StringComparison.Ordinal));
        Assert.Equal(cpo.PartyId, hop.Headers["OCPI-from-party-id"]);
        Assert.Equal(em1, hop.Headers["OCPI-to-party-id"]);
        Assert.Empty(other.LocationPushes);

        // The unagreed eMSP reads nothing of that CPO, and naming it gets the refusal that names the missing agreement.
        using var list = await other.CallAsync(HttpMethod.Get, other.Hub("locations", "SENDER"));
        Assert.Empty((await list.EnvelopeAsync())["data"]!.AsArray());
        using var named = await other.CallAsync(HttpMethod.Get, other.Hub("locations", "SENDER"), headers: other.To(cpo));
        var refusal = await named.EnvelopeAsync();
        Assert.Equal(2000, refusal["status_code"]!.GetValue<int>());
        Assert.Contains("No agreement", refusal["status_message"]!.GetValue<string>());
        // Reading as another party's role is refused like any other unagreed read.
        var posing = other.To(cpo);
        posing["OCPI-from-party-id"] = em1;
        using var posed = await other.CallAsync(HttpMethod.Get, other.Hub("locations", "SENDER"), headers: posing);
        Assert.Equal(2000, await Status(posed));
        using var agreedList = await agreed.CallAsync(HttpMethod.Get, agreed.Hub("locations", "SENDER"), headers: agreed.To(cpo));
        Assert.Single((await agreedList.EnvelopeAsync())["data"]!.AsArray());
        world.Traffic.AssertConformant(6);
    }

    [Fact]
    public async Task The_hub_wide_default_decides_without_agreements_closed_serves_and_pushes_nothing()
    {
        await using var world = await StartAsync(o => o.RoamingDefault = RoamingDefault.Closed);
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", Unique("D"), OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", Unique("F"), OcpiVersion.V230);
        using (var put = await cpo.CallAsync(HttpMethod.Put, $"{cpo.Hub("locations", "RECEIVER")}/NL/{cpo.PartyId}/Q1", Location(cpo, "Q1", "2026-02-01T10:00:00Z")))
            Assert.Equal(1000, await Status(put));
        using var list = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("locations", "SENDER"));
        Assert.Empty((await list.EnvelopeAsync())["data"]!.AsArray());
        await Task.Delay(300);
        Assert.Empty(emsp.LocationPushes);
    }

    [Fact]
    public async Task A_CPO_cannot_write_another_CPOs_objects()
    {
        await using var world = await StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", Unique("G"), OcpiVersion.V230);
        var victim = await world.AddPartyAsync(Roles.Cpo, "NL", Unique("H"), OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", Unique("I"), OcpiVersion.V230);
        using var forged = await cpo.CallAsync(HttpMethod.Put, $"{cpo.Hub("locations", "RECEIVER")}/NL/{victim.PartyId}/V1", Location(victim, "V1", "2026-02-01T10:00:00Z"));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(2001, await Status(forged));
        // The body must name the URL's object too.
        using var mismatched = await cpo.CallAsync(HttpMethod.Put, $"{cpo.Hub("locations", "RECEIVER")}/NL/{cpo.PartyId}/V2", Location(victim, "V2", "2026-02-01T10:00:00Z"));
        Assert.Equal(2001, await Status(mismatched));
        using var list = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("locations", "SENDER"), headers: emsp.To(victim));
        Assert.Empty((await list.EnvelopeAsync())["data"]!.AsArray());
        Assert.Empty(emsp.LocationPushes);
    }

    [Fact]
    public async Task Malformed_pushes_get_an_OCPI_error_and_change_nothing()
    {
        await using var world = await StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", Unique("M"), OcpiVersion.V230);
        var url = $"{cpo.Hub("locations", "RECEIVER")}/NL/{cpo.PartyId}";
        var numericId = Location(cpo, "M1", "2026-02-01T10:00:00Z");
        numericId["id"] = 5;
        using (var r = await cpo.CallAsync(HttpMethod.Put, url + "/M1", numericId)) Assert.Equal((HttpStatusCode.BadRequest, 2001), (r.StatusCode, await Status(r)));
        var undated = Location(cpo, "M1", "2026-02-01T10:00:00Z");
        undated.Remove("last_updated");
        using (var r = await cpo.CallAsync(HttpMethod.Put, url + "/M1", undated)) Assert.Equal((HttpStatusCode.BadRequest, 2002), (r.StatusCode, await Status(r)));
        using (var r = await cpo.CallAsync(HttpMethod.Put, url + "/" + new string('X', 37), Location(cpo, new string('X', 37), "2026-02-01T10:00:00Z")))
            Assert.Equal(2001, await Status(r));
        using (var r = await cpo.CallAsync(HttpMethod.Patch, url + "/NOPE/1", new JsonObject { ["status"] = "AVAILABLE", ["last_updated"] = "2026-02-01T10:00:00Z" }))
            Assert.Equal((HttpStatusCode.NotFound, 2003), (r.StatusCode, await Status(r)));
        using (var r = await cpo.CallAsync(HttpMethod.Put, url + "/M1", new JsonArray())) Assert.Equal(2001, await Status(r));
        var evse = new JsonObject { ["uid"] = 3256, ["status"] = "AVAILABLE", ["last_updated"] = "2026-02-01T10:00:00Z" };
        using (var put = await cpo.CallAsync(HttpMethod.Put, url + "/M2", Location(cpo, "M2", "2026-02-01T10:00:00Z"))) Assert.Equal(1000, await Status(put));
        using (var r = await cpo.CallAsync(HttpMethod.Put, url + "/M2/3256", evse)) Assert.Equal(2001, await Status(r));
        using var back = await cpo.CallAsync(HttpMethod.Get, url + "/M2/3256");
        Assert.Equal("AVAILABLE", (await back.EnvelopeAsync())["data"]!["status"]!.GetValue<string>());
        Assert.Null(await world.Hub.Services.GetRequiredService<IHubObjectStore>().GetAsync(HubObjectKey.Of(HubObjectKind.Location, "NL", cpo.PartyId, "M1")));
    }

    [Fact]
    public async Task The_poller_takes_only_what_changed_since_the_last_sync_and_a_restart_keeps_the_store()
    {
        var pid = Unique("P");
        string cpoPartyId;
        await using (var world = await StartAsync())
        {
            var cpo = await world.AddPartyAsync(Roles.Cpo, "FR", pid, OcpiVersion.V221);
            cpoPartyId = world.PartyIds[cpo];
            var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", Unique("J"), OcpiVersion.V230);
            cpo.OwnLocations.Add(Location(cpo, "R1", "2026-03-01T10:00:00Z"));
            cpo.OwnLocations.Add(Location(cpo, "R2", "2026-03-01T11:00:00Z"));
            var poller = world.Hub.Services.GetRequiredService<StorePoller>();
            Assert.Equal(2, await poller.PollOnceAsync(CancellationToken.None));
            var firstPull = cpo.ReceivedRequests.Where(r => r.Path.EndsWith("/sender/locations", StringComparison.Ordinal)).ToList();
            Assert.DoesNotContain("date_from", firstPull.Single().Query);
            await WaitForAsync(() => emsp.PushedLocations.Count == 2);

            var syncedFrom = await world.Hub.Services.GetRequiredService<IPullSyncStore>().LastSyncAsync(cpoPartyId, HubObjectKind.Location);
            Assert.NotNull(syncedFrom);
            cpo.OwnLocations.Add(Location(cpo, "R3", UtcTimestampConverter.Format(syncedFrom.Value.AddSeconds(1))));
            Assert.Equal(1, await poller.PollOnceAsync(CancellationToken.None));
            var secondPull = cpo.ReceivedRequests.Where(r => r.Path.EndsWith("/sender/locations", StringComparison.Ordinal)).Skip(1).Single();
            Assert.Contains("date_from=" + Uri.EscapeDataString(UtcTimestampConverter.Format(syncedFrom.Value)), secondPull.Query);
            world.Traffic.AssertConformant(4);
        }

        // A new hub on the same database: the store, the last sync and the parties are all still there.
        await using var again = await StartAsync();
        var reader = await again.AddPartyAsync(Roles.Emsp, "DE", Unique("K"), OcpiVersion.V221);
        using var list = await reader.CallAsync(HttpMethod.Get, reader.Hub("locations", "SENDER") + "?date_from=2026-03-01T00:00:00Z&date_to=2026-03-02T00:00:00Z");
        var ids = (await list.EnvelopeAsync())["data"]!.AsArray().Select(l => l!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["R1", "R2"], ids);
        Assert.NotNull(await again.Hub.Services.GetRequiredService<IPullSyncStore>().LastSyncAsync(cpoPartyId, HubObjectKind.Location));
    }

    [Fact]
    public async Task A_poller_that_finds_its_lease_taken_between_pages_stops_and_the_next_holder_pulls_from_the_last_sync()
    {
        await using var world = await StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "FR", Unique("Q"), OcpiVersion.V221);
        await world.AddPartyAsync(Roles.Emsp, "DE", Unique("J"), OcpiVersion.V230);
        for (var i = 0; i < 15; i++) cpo.OwnLocations.Add(Location(cpo, $"L{i:D2}", "2026-02-01T10:00:00Z"));
        var poller = world.Hub.Services.GetRequiredService<StorePoller>();
        var sync = world.Hub.Services.GetRequiredService<IPullSyncStore>();
        // Another instance takes the lease over while the first page is on its way (its holder had stopped renewing).
        cpo.BeforeLocationsPage = offset => offset == 0 ? SetLeaseAsync("'other instance'", "now() + interval '1 hour'") : Task.CompletedTask;
        try
        {
            Assert.Equal(10, await poller.PollOnceAsync(CancellationToken.None)); // the first page, then no second one
            Assert.Single(cpo.ReceivedRequests, r => r.Path.EndsWith("/sender/locations", StringComparison.Ordinal));
            Assert.Null(await sync.LastSyncAsync(world.PartyIds[cpo], HubObjectKind.Location));
            Assert.Equal(0, await poller.PollOnceAsync(CancellationToken.None)); // not the holder: no round at all
            cpo.BeforeLocationsPage = null;
            await SetLeaseAsync("null", "'-infinity'");

            // Once the lease is free again, a round pulls from where the last sync was (never moved: from the start) and
            // records the sync; the first page's objects are already stored as they are, so only the other 5 change the store.
            Assert.Equal(5, await poller.PollOnceAsync(CancellationToken.None));
            Assert.DoesNotContain(cpo.ReceivedRequests.Skip(1), r => r.Query.Contains("date_from", StringComparison.Ordinal));
            Assert.NotNull(await sync.LastSyncAsync(world.PartyIds[cpo], HubObjectKind.Location));
        }
        finally { await SetLeaseAsync("null", "'-infinity'"); } // the class's other tests poll with hubs of their own
    }

    private async Task SetLeaseAsync(string holder, string until)
    {
        await using var conn = await fx.Db.OpenConnectionAsync();
        await using var set = new Npgsql.NpgsqlCommand($"update ocpi_store_poll_lease set holder = {holder}, until = {until} where id = 1", conn);
        await set.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_2_3_0_CPOs_North_American_tariff_is_served_to_a_2_2_1_eMSP_and_deleted()
    {
        await using var world = await StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "CA", Unique("T"), OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "US", Unique("U"), OcpiVersion.V221);
        var tariff = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Examples", "tariff_20_simple_north_american_inclusive-2.3.0.json")))!.AsObject();
        tariff["party_id"] = cpo.PartyId;
        var url = $"{cpo.Hub("tariffs", "RECEIVER")}/CA/{cpo.PartyId}/12";
        using (var put = await cpo.CallAsync(HttpMethod.Put, url, tariff)) Assert.Equal(1000, await Status(put));
        using var list = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("tariffs", "SENDER"), headers: emsp.To(cpo));
        var served = (await list.EnvelopeAsync())["data"]!.AsArray().Single()!;
        Assert.Null(served["tax_included"]);
        Assert.Equal(2.10m, served["elements"]![0]!["price_components"]![0]!["price"]!.GetValue<decimal>());
        using (var delete = await cpo.CallAsync(HttpMethod.Delete, url)) Assert.Equal(1000, await Status(delete));
        using var after = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("tariffs", "SENDER"), headers: emsp.To(cpo));
        Assert.Empty((await after.EnvelopeAsync())["data"]!.AsArray());
    }
}
