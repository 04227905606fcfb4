using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests;

public sealed class AuthorizationTests
{
    private const string Emaid = "DE8ACC12345678J";

    private static async Task<(HubWorld World, FakeParty Cpo, FakeParty Emsp)> WorldAsync(OcpiVersion cpoVersion = OcpiVersion.V230, OcpiVersion emspVersion = OcpiVersion.V230,
        TimeSpan? partyTimeout = null)
    {
        var world = await HubWorld.StartAsync(partyTimeout is { } t ? o => o.PartyTimeout = t : null);
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CPO", cpoVersion);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "EMS", emspVersion, providerPrefixes: ["DE8AC"]);
        return (world, cpo, emsp);
    }

    private static string AuthorizeUrl(FakeParty cpo, string uid, string type) => $"{cpo.Hub("tokens", "SENDER")}/{uid}/authorize?type={type}";

    private static readonly JsonObject Location = new() { ["location_id"] = "LOC1", ["evse_uids"] = new JsonArray("3256") };

    [Fact]
    public async Task Allowed_is_relayed_with_authorization_reference_location_and_correlation_kept()
    {
        var (world, cpo, emsp) = await WorldAsync();
        await using var _ = world;
        using var put = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/EMS/RFID1?type=RFID", emsp.Token("RFID1", "RFID"));
        var correlation = Guid.NewGuid().ToString();

        using var r = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "RFID1", "RFID"), Location.DeepClone(), cpo.To(emsp), correlationId: correlation);
        var data = (await r.EnvelopeAsync())["data"]!;
        Assert.Equal("ALLOWED", data["allowed"]!.GetValue<string>());
        Assert.Equal("REF-RFID1", data["authorization_reference"]!.GetValue<string>());
        Assert.Equal("LOC1", data["location"]!["location_id"]!.GetValue<string>());
        Assert.Equal(correlation, r.Headers.GetValues("X-Correlation-ID").Single());

        var hop = emsp.ReceivedRequests.Single(x => x.Path.EndsWith("/authorize", StringComparison.Ordinal));
        Assert.Equal(correlation, hop.Headers["X-Correlation-ID"]);
        Assert.NotEqual(r.RequestMessage!.Headers.GetValues("X-Request-ID").Single(), hop.Headers["X-Request-ID"]);
        Assert.Equal("CPO", hop.Headers["OCPI-from-party-id"]);
        Assert.Equal("EMS", hop.Headers["OCPI-to-party-id"]);
        Assert.Equal("LOC1", JsonNode.Parse(hop.Body)!["location_id"]!.GetValue<string>());

        // Without routing headers the hub finds the owner from the pushed token.
        using var routed = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "RFID1", "RFID"));
        Assert.Equal("ALLOWED", (await routed.EnvelopeAsync())["data"]!["allowed"]!.GetValue<string>());
        world.Traffic.AssertConformant(6);
    }

    [Fact]
    public async Task Blocked_and_unknown_answers_of_the_eMSP_come_back_unchanged()
    {
        var (world, cpo, emsp) = await WorldAsync();
        await using var _ = world;
        emsp.OnAuthorize = (uid, type, loc) => Task.FromResult(uid == "LOST"
            ? new AuthorizeReply(404, FakeParty.Envelope(null, 2004, "Unknown token"))
            : emsp.Allowed(uid, type, loc, "REF-B", "BLOCKED"));

        using var blocked = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "CARD", "RFID"), headers: cpo.To(emsp));
        Assert.Equal("BLOCKED", (await blocked.EnvelopeAsync())["data"]!["allowed"]!.GetValue<string>());

        using var lost = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "LOST", "RFID"), headers: cpo.To(emsp));
        Assert.Equal(HttpStatusCode.NotFound, lost.StatusCode);
        Assert.Equal(2004, (await lost.EnvelopeAsync())["status_code"]!.GetValue<int>());

        // A token the hub cannot route anywhere: 2004 from the hub itself, HTTP 404.
        using var nowhere = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "NOBODY", "RFID"));
        Assert.Equal(HttpStatusCode.NotFound, nowhere.StatusCode);
        Assert.Equal(2004, (await nowhere.EnvelopeAsync())["status_code"]!.GetValue<int>());
        Assert.Equal(2, emsp.AuthorizeCalls);

        // A receiver that is not connected to the hub: 4001.
        var headers = cpo.To(emsp);
        headers["OCPI-to-party-id"] = "ZZZ";
        using var unknownReceiver = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "CARD", "RFID"), headers: headers);
        Assert.Equal(4001, (await unknownReceiver.EnvelopeAsync())["status_code"]!.GetValue<int>());
        world.Traffic.AssertConformant(6);
    }

    [Fact]
    public async Task A_hanging_eMSP_gets_4002_after_the_timeout_unless_the_token_may_be_allowed_offline()
    {
        var (world, cpo, emsp) = await WorldAsync(partyTimeout: TimeSpan.FromMilliseconds(800));
        await using var _ = world;
        emsp.OnAuthorize = (_, _, _) => Task.FromResult(new AuthorizeReply(200, null));
        using var p1 = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/EMS/OFFLINE1?type=RFID", emsp.Token("OFFLINE1", "RFID", "ALLOWED_OFFLINE"));
        using var p2 = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/EMS/NEVER1?type=RFID", emsp.Token("NEVER1", "RFID", "NEVER"));

        var watch = Stopwatch.StartNew();
        using var never = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "NEVER1", "RFID"), headers: cpo.To(emsp));
        watch.Stop();
        Assert.Equal(4002, (await never.EnvelopeAsync())["status_code"]!.GetValue<int>());
        Assert.InRange(watch.ElapsedMilliseconds, 700, 5000); // the hub's 800 ms timeout, not the eMSP's silence

        using var offline = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "OFFLINE1", "RFID"), headers: cpo.To(emsp));
        var data = (await offline.EnvelopeAsync())["data"]!;
        Assert.Equal("ALLOWED", data["allowed"]!.GetValue<string>());
        Assert.Equal("OFFLINE1", data["token"]!["uid"]!.GetValue<string>());
        world.Traffic.AssertConformant(4);
    }

    [Fact]
    public async Task After_five_timeouts_in_a_row_the_hub_stops_calling_a_hanging_eMSP_until_a_probe_finds_it_back()
    {
        OcpiHubOptions? options = null;
        var window = TimeSpan.FromSeconds(3);
        await using var world = await HubWorld.StartAsync(o =>
        {
            options = o;
            o.CircuitBreakerSamplingDuration = window;
            o.CircuitBreakerOpenTime = TimeSpan.FromSeconds(1);
        });
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CPO", OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "EMS", OcpiVersion.V230, providerPrefixes: ["DE8AC"]);
        var other = await world.AddPartyAsync(Roles.Emsp, "FR", "OTH", OcpiVersion.V230, providerPrefixes: ["FR9ZZ"]);
        // The handshakes ran with the production timeout: a cold process takes more than 300 ms for its first calls to a
        // party. The hub reads the timeout per call, so the relay below gets the short one.
        options!.PartyTimeout = TimeSpan.FromMilliseconds(300);
        var hang = true;
        emsp.OnAuthorize = (uid, type, location) => Task.FromResult(hang ? new AuthorizeReply(200, null) : emsp!.Allowed(uid, type, location, "REF-" + uid));
        // The breaker counts within its window, where an answer keeps it closed: let the handshake's answers leave it.
        await Task.Delay(window);
        async Task<(int Status, long Ms)> Authorize()
        {
            var watch = Stopwatch.StartNew();
            using var r = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "RFID1", "RFID"), headers: cpo.To(emsp));
            return ((await r.EnvelopeAsync())["status_code"]!.GetValue<int>(), watch.ElapsedMilliseconds);
        }

        for (var i = 0; i < 5; i++) Assert.Equal(4002, (await Authorize()).Status);
        Assert.Equal(5, emsp.AuthorizeCalls);
        // Open: answered at once (4002 as for a timeout) without calling the eMSP.
        var open = await Authorize();
        Assert.Equal(4002, open.Status);
        Assert.True(open.Ms < 250, $"took {open.Ms} ms");
        Assert.Equal(5, emsp.AuthorizeCalls);
        // The breaker is this eMSP's alone: another eMSP is still asked.
        using (var elsewhere = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "FR9ZZC12345678", "EMAID")))
            Assert.Equal("ALLOWED", (await elsewhere.EnvelopeAsync())["data"]!["allowed"]!.GetValue<string>());
        Assert.Equal(1, other.AuthorizeCalls);

        // The eMSP recovers; after the open time one probe goes through and closes the circuit.
        hang = false;
        await Task.Delay(1100);
        Assert.Equal(1000, (await Authorize()).Status);
        Assert.Equal(1000, (await Authorize()).Status);
        Assert.Equal(7, emsp.AuthorizeCalls);
    }

    [Fact]
    public async Task An_eMSP_that_is_down_gets_4003_unless_the_token_may_be_allowed_offline()
    {
        var (world, cpo, emsp) = await WorldAsync();
        await using var _ = world;
        using var p1 = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/EMS/OFFLINE1?type=RFID", emsp.Token("OFFLINE1", "RFID", "ALLOWED_OFFLINE"));
        await emsp.StopServerAsync();

        using var down = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "OTHER1", "RFID"), headers: cpo.To(emsp));
        Assert.Equal(4003, (await down.EnvelopeAsync())["status_code"]!.GetValue<int>());
        using var offline = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "OFFLINE1", "RFID"), headers: cpo.To(emsp));
        Assert.Equal("ALLOWED", (await offline.EnvelopeAsync())["data"]!["allowed"]!.GetValue<string>());
        world.Traffic.AssertConformant(3);
    }

    [Fact]
    public async Task A_2_2_1_CPO_authorizes_an_EMAID_as_OTHER_at_a_2_3_0_eMSP_routed_by_provider_prefix()
    {
        var (world, cpo, emsp) = await WorldAsync(cpoVersion: OcpiVersion.V221, emspVersion: OcpiVersion.V230);
        await using var _ = world;

        // No routing headers, separators and lower case in the uid: the hub normalizes and routes by DE8AC.
        using var r = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, "de-8ac-c12345678-j", "OTHER"), Location.DeepClone());
        var data = (await r.EnvelopeAsync())["data"]!;
        Assert.Equal("ALLOWED", data["allowed"]!.GetValue<string>());
        Assert.Equal("OTHER", data["token"]!["type"]!.GetValue<string>());
        Assert.Equal(Emaid, data["token"]!["uid"]!.GetValue<string>());
        Assert.Equal("REF-" + Emaid, data["authorization_reference"]!.GetValue<string>());

        var hop = emsp.ReceivedRequests.Single(x => x.Path.EndsWith("/authorize", StringComparison.Ordinal));
        Assert.Equal($"/ocpi/2.3.0/sender/tokens/{Emaid}/authorize", hop.Path);
        Assert.Equal("?type=EMAID", hop.Query);
        world.Traffic.AssertConformant(2);
    }

    [Fact]
    public async Task A_2_3_0_CPO_authorizes_an_EMAID_at_a_2_2_1_eMSP_which_sees_OTHER()
    {
        var (world, cpo, emsp) = await WorldAsync(cpoVersion: OcpiVersion.V230, emspVersion: OcpiVersion.V221);
        await using var _ = world;
        using var r = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, Emaid, "EMAID"));
        var data = (await r.EnvelopeAsync())["data"]!;
        Assert.Equal("EMAID", data["token"]!["type"]!.GetValue<string>());
        Assert.Equal("?type=OTHER", emsp.ReceivedRequests.Single(x => x.Path.EndsWith("/authorize", StringComparison.Ordinal)).Query);
        world.Traffic.AssertConformant(2);
    }

    [Fact]
    public async Task A_hanging_eMSP_does_not_slow_authorizations_for_other_eMSPs()
    {
        await using var world = await HubWorld.StartAsync(o => o.PartyTimeout = TimeSpan.FromSeconds(5));
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "CPO", OcpiVersion.V230);
        var fast = await world.AddPartyAsync(Roles.Emsp, "DE", "EMS", OcpiVersion.V230, providerPrefixes: ["DE8AC"]);
        var hanging = await world.AddPartyAsync(Roles.Emsp, "FR", "HNG", OcpiVersion.V230, providerPrefixes: ["FR9ZZ"]);
        hanging.OnAuthorize = (_, _, _) => Task.FromResult(new AuthorizeReply(200, null));

        // 50 authorizations stuck at the hanging eMSP for the next 5 s...
        var stuck = Enumerable.Range(0, 50).Select(i => cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, $"FR9ZZC{i:00000000}", "EMAID"))).ToList();
        await Task.Delay(300);
        // ...while the other eMSP's authorizations go through at once.
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            using var r = await cpo.CallAsync(HttpMethod.Post, AuthorizeUrl(cpo, Emaid, "EMAID"));
            Assert.Equal("ALLOWED", (await r.EnvelopeAsync())["data"]!["allowed"]!.GetValue<string>());
        }
        watch.Stop();
        Assert.True(watch.ElapsedMilliseconds < 4000, $"20 authorizations at the fast eMSP took {watch.ElapsedMilliseconds} ms while another eMSP hung.");
        Assert.All(stuck, t => Assert.False(t.IsCompleted));
        foreach (var t in stuck) (await t).Dispose();
        Assert.Equal(20, fast.AuthorizeCalls);
    }
}
