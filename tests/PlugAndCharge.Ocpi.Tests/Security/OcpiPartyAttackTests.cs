using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using PlugAndCharge.Ocpi.Tests.Storage;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Storage.Ocpi;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests.Security;

/// <summary>
/// Issue 21, OCPI parties: each test attacks the hub through its real OCPI interface (HTTP with credentials tokens)
/// and asserts the refusal in OCPI's own form (HTTP status + status_code in the envelope).
/// </summary>
public sealed class OcpiPartyAttackTests(OcpiDatabaseFixture fx) : IClassFixture<OcpiDatabaseFixture>
{
    private const string ForgedHost = "attacker.example";

    // ---- (a) the hub's URLs come from its configured base URL; a request for another host is refused ----

    [Fact]
    public async Task A_forged_Host_header_is_refused_and_every_URL_the_hub_returns_uses_the_configured_base_URL()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "HCP", OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "HEM", OcpiVersion.V230);
        var forged = new Dictionary<string, string> { ["Host"] = ForgedHost };

        using (var versions = await emsp.CallAsync(HttpMethod.Get, world.Hub.VersionsUrl, headers: forged))
            await AssertRefusedAsync(versions, HttpStatusCode.MisdirectedRequest, 2000);
        using (var details = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("credentials", "SENDER").Replace("/credentials", "/details"), headers: forged))
            await AssertRefusedAsync(details, HttpStatusCode.MisdirectedRequest, 2000);

        // The command's response_url would be rewritten to the forged host, and the CPO would post its CommandResult
        // there with its own token: the hub refuses the command instead.
        var headers = emsp.To(cpo);
        headers["Host"] = ForgedHost;
        using (var command = await emsp.CallAsync(HttpMethod.Post, world.Hub.BaseUrl + "/ocpi/2.3.0/receiver/commands/START_SESSION", Command(emsp, "REF-F"), headers))
            await AssertRefusedAsync(command, HttpStatusCode.MisdirectedRequest, 2000);
        Assert.Empty(cpo.Commands);

        // Honest requests: every URL the hub hands out starts with its configured base URL.
        var configured = world.Hub.Services.GetRequiredService<OcpiHubOptions>().PublicBaseUrl;
        Assert.Equal(world.Hub.BaseUrl + "/ocpi", configured);
        var list = (await emsp.GetDataAsync(world.Hub.VersionsUrl))!.AsArray();
        Assert.All(list, v => Assert.StartsWith(configured + "/", v!["url"]!.GetValue<string>(), StringComparison.Ordinal));
        var endpoints = (await emsp.GetDataAsync(list.Last()!["url"]!.GetValue<string>()))!["endpoints"]!.AsArray();
        Assert.All(endpoints, e => Assert.StartsWith(configured + "/", e!["url"]!.GetValue<string>(), StringComparison.Ordinal));
        using (var credentials = await emsp.CallAsync(HttpMethod.Get, emsp.Hub("credentials", "SENDER")))
            Assert.Equal(configured + "/versions", (await credentials.EnvelopeAsync())["data"]!["url"]!.GetValue<string>());
        using (var command = await emsp.CallAsync(HttpMethod.Post, world.Hub.BaseUrl + "/ocpi/2.3.0/receiver/commands/START_SESSION", Command(emsp, "REF-H"), emsp.To(cpo)))
            Assert.Equal(1000, (await command.EnvelopeAsync())["status_code"]!.GetValue<int>());
        Assert.True(cpo.Commands.TryDequeue(out var received));
        Assert.StartsWith(configured + "/2.3.0/hub/commandresult/", received.Body["response_url"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    // ---- (c) a suspended or revoked party stays out, the credentials module included ----

    [Fact]
    public async Task A_suspended_party_is_refused_on_every_module_and_its_credentials_PUT_does_not_reconnect_it()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "SCP", OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "SEM", OcpiVersion.V230);
        cpo.OwnLocations.Add(FakeParty.LocationExample(OcpiVersion.V230, "NL", "SCP", "LOC1"));
        var id = world.PartyIds[emsp];
        using (var suspend = await OperatorAsync(world, $"/admin/ocpi/parties/{id}/suspend")) Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        var probesBefore = emsp.ReceivedRequests.Count(r => r.Path == "/ocpi/versions");

        await AssertLockedOutAsync(world, emsp, cpo, emsp.HubToken!);

        var after = (await world.Hub.Admin.GetAsync(id))!;
        Assert.Equal(PartyStatus.Suspended, after.Status);
        Assert.Equal(probesBefore, emsp.ReceivedRequests.Count(r => r.Path == "/ocpi/versions")); // the hub never even tried the handshake
    }

    [Fact]
    public async Task A_revoked_party_is_refused_with_its_old_token_C_and_cannot_reconnect_with_it()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "RCP", OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "REM", OcpiVersion.V230);
        cpo.OwnLocations.Add(FakeParty.LocationExample(OcpiVersion.V230, "NL", "RCP", "LOC1"));
        var id = world.PartyIds[emsp];
        var oldC = emsp.HubToken!;
        using (var revoke = await OperatorAsync(world, $"/admin/ocpi/parties/{id}/revoke-credentials")) Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        await AssertLockedOutAsync(world, emsp, cpo, oldC);

        var after = (await world.Hub.Admin.GetAsync(id))!;
        Assert.Equal(PartyStatus.Planned, after.Status);
        Assert.False(after.IsRegistered);
    }

    // ---- (d) a revocation racing a credentials PUT wins ----

    [Fact]
    public async Task A_revocation_racing_a_credentials_PUT_wins()
    {
        await using var world = await HubWorld.StartAsync();
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "RAC", OcpiVersion.V230);
        await RaceRevocationAgainstPutAsync(emsp, world.Hub, world.Hub, world.PartyIds[emsp]);
    }

    [Fact]
    public async Task A_revocation_on_another_instance_racing_a_credentials_PUT_wins()
    {
        void Postgres(IServiceCollection s)
        {
            s.AddSingleton<IOcpiPartyStore>(new PostgresOcpiPartyStore(fx.Db, fx.DataAtRestKey));
            s.AddSingleton<IOcpiTokenStore>(new PostgresOcpiTokenStore(fx.Db));
        }
        var traffic = new TrafficLog();
        await using var one = await HubHost.StartAsync(services: Postgres);
        await using var two = await HubHost.StartAsync(services: Postgres);
        await using var emsp = await FakeParty.StartAsync(Roles.Emsp, "DE", "RA2", OcpiVersion.V230, traffic);
        var (record, tokenA) = await one.Admin.CreateAsync(new PartyAdministration.NewParty("eMSP race", [new PartyRole(Roles.Emsp, "DE", "RA2")]));
        await emsp.RegisterAsync(one.VersionsUrl, tokenA);
        await RaceRevocationAgainstPutAsync(emsp, one, two, record.Id);
    }

    /// <summary>
    /// The party PUTs new credentials on <paramref name="putHub"/>; while the hub reads the party's versions, the
    /// operator revokes its credentials on <paramref name="revokeHub"/>. The PUT must lose: refused, no token C, and
    /// the party stays cut off with the operator's new token A as its only way back.
    /// </summary>
    private static async Task RaceRevocationAgainstPutAsync(FakeParty emsp, HubHost putHub, HubHost revokeHub, string id)
    {
        var oldC = emsp.HubToken!;
        var probing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        emsp.BeforeVersions = async () => { probing.TrySetResult(); await release.Task; };
        emsp.RotateTokenB();
        var put = emsp.CallAsync(HttpMethod.Put, putHub.BaseUrl + "/ocpi/2.3.0/credentials", emsp.CredentialsBody(), token: oldC);
        await probing.Task.WaitAsync(TimeSpan.FromSeconds(10));

        using var http = new HttpClient { BaseAddress = new Uri(revokeHub.BaseUrl) };
        using var revoke = await http.PostAsync($"/admin/ocpi/parties/{id}/revoke-credentials", null);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        var tokenA = (await revoke.EnvelopeAsync())["tokenA"]!.GetValue<string>();
        release.SetResult();
        emsp.BeforeVersions = null;

        using var answer = await put.WaitAsync(TimeSpan.FromSeconds(10));
        var body = await answer.EnvelopeAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.Unauthorized, $"The PUT overwrote the revocation: HTTP {(int)answer.StatusCode} {body.ToJsonString()}");
        Assert.Equal(2000, body["status_code"]!.GetValue<int>());
        Assert.Null(body["data"]);

        var stored = (await revokeHub.Admin.GetAsync(id))!;
        Assert.Equal(PartyStatus.Planned, stored.Status);
        Assert.Equal(CredentialsTokenKind.A, stored.IncomingTokenKind);
        Assert.Equal(CredentialsTokens.Hash(tokenA), stored.IncomingTokenHash);
        Assert.Null(stored.OutgoingToken);
        // Another instance learns of the revocation at its next refresh (PartyRefreshInterval); here at once.
        await putHub.Services.GetRequiredService<PartyDirectory>().ReloadAsync();
        using (var withOldC = await emsp.CallAsync(HttpMethod.Get, putHub.VersionsUrl, token: oldC)) Assert.Equal(HttpStatusCode.Unauthorized, withOldC.StatusCode);
        using (var withA = await emsp.CallAsync(HttpMethod.Get, revokeHub.VersionsUrl, token: tokenA)) Assert.Equal(HttpStatusCode.OK, withA.StatusCode);
    }

    [Fact]
    public async Task A_party_write_from_a_stale_row_version_loses_and_is_decided_again_on_what_the_store_holds()
    {
        var store = new PostgresOcpiPartyStore(fx.Db, fx.DataAtRestKey);
        var options = new OcpiHubOptions { PublicBaseUrl = "https://hub.test/ocpi" };
        var other = new PartyDirectory(store, TimeProvider.System, options);
        var racing = new InterleavingStore(store);
        var one = new PartyDirectory(racing, TimeProvider.System, options);
        var party = await one.CreateAsync(new PartyRecord
        {
            Id = "race-" + Guid.NewGuid().ToString("N")[..8], Name = "Race", Roles = [new PartyRole(Roles.Emsp, "DE", "RV" + Random.Shared.Next(10))],
            IncomingTokenHash = CredentialsTokens.Hash("token-c-" + Guid.NewGuid()), IncomingTokenKind = CredentialsTokenKind.C, Status = PartyStatus.Connected,
        });

        // The store refuses a write from a version another write already replaced.
        var read = (await store.ListAsync()).Single(p => p.Id == party.Id);
        await store.UpdateAsync(read with { Name = "first" });
        await Assert.ThrowsAsync<OcpiConcurrencyException>(() => store.UpdateAsync(read with { Name = "stale", Status = PartyStatus.Connected }));
        Assert.Equal("first", (await store.ListAsync()).Single(p => p.Id == party.Id).Name);

        // Another instance suspends the party between this instance's read and its write: the write is refused by row
        // version, read again, and a change that required the party not to be suspended now refuses itself.
        racing.BeforeNextUpdate = () => other.UpdateAsync(party.Id, p => p with { Status = PartyStatus.Suspended });
        await Assert.ThrowsAsync<OcpiPartyChangedException>(() => one.UpdateAsync(party.Id, p => p.Status == PartyStatus.Suspended
            ? throw new OcpiPartyChangedException("suspended meanwhile")
            : p with { Status = PartyStatus.Connected }));
        Assert.Equal(PartyStatus.Suspended, (await store.ListAsync()).Single(p => p.Id == party.Id).Status);

        // An unconditional change retries on the new record and keeps the other writer's change.
        racing.BeforeNextUpdate = () => other.UpdateAsync(party.Id, p => p with { ProviderPrefixes = ["DERCE"] });
        var renamed = await one.UpdateAsync(party.Id, p => p with { Name = "second" });
        var stored = (await store.ListAsync()).Single(p => p.Id == party.Id);
        Assert.Equal(("second", PartyStatus.Suspended), (stored.Name, stored.Status));
        Assert.Equal(["DERCE"], stored.ProviderPrefixes);
        Assert.Equal(stored.RowVersion, renamed.RowVersion);
    }

    /// <summary>A store that lets another writer in between a directory's read and its write, once.</summary>
    private sealed class InterleavingStore(IOcpiPartyStore inner) : IOcpiPartyStore
    {
        public Func<Task>? BeforeNextUpdate { get; set; }
        public Task<IReadOnlyList<PartyRecord>> ListAsync(CancellationToken ct = default) => inner.ListAsync(ct);
        public Task CreateAsync(PartyRecord party, CancellationToken ct = default) => inner.CreateAsync(party, ct);

        public async Task UpdateAsync(PartyRecord party, CancellationToken ct = default)
        {
            if (BeforeNextUpdate is { } interleave)
            {
                BeforeNextUpdate = null;
                await interleave();
            }
            await inner.UpdateAsync(party, ct);
        }
    }

    // ---- (e) the token list goes to CPOs only ----

    [Fact]
    public async Task Only_a_CPO_reads_the_hubs_tokens_sender_interface()
    {
        await using var world = await HubWorld.StartAsync();
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "TCP", OcpiVersion.V230);
        var emsp = await world.AddPartyAsync(Roles.Emsp, "DE", "TEM", OcpiVersion.V230);
        var rival = await world.AddPartyAsync(Roles.Emsp, "FR", "RIV", OcpiVersion.V230);
        using (var push = await emsp.CallAsync(HttpMethod.Put, $"{emsp.Hub("tokens", "RECEIVER")}/DE/TEM/CARD1?type=RFID", emsp.Token("CARD1", "RFID")))
            Assert.Equal(1000, (await push.EnvelopeAsync())["status_code"]!.GetValue<int>());

        using (var list = await rival.CallAsync(HttpMethod.Get, rival.Hub("tokens", "SENDER")))
            await AssertRefusedAsync(list, HttpStatusCode.Unauthorized, 2000);
        using (var authorize = await rival.CallAsync(HttpMethod.Post, rival.Hub("tokens", "SENDER") + "/CARD1/authorize?type=RFID"))
            await AssertRefusedAsync(authorize, HttpStatusCode.Unauthorized, 2000);
        Assert.Equal(0, emsp.AuthorizeCalls);

        using var ok = await cpo.CallAsync(HttpMethod.Get, cpo.Hub("tokens", "SENDER"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains((await ok.EnvelopeAsync())["data"]!.AsArray(), t => t!["uid"]!.GetValue<string>() == "CARD1");
        world.Traffic.AssertConformant(3);
    }

    // ---- (f) pending command slots are limited per party ----

    [Fact]
    public async Task A_party_that_fills_its_pending_command_slots_is_refused_while_another_party_still_commands()
    {
        await using var world = await HubWorld.StartAsync(o => o.MaxPendingCommandsPerParty = 2);
        var cpo = await world.AddPartyAsync(Roles.Cpo, "NL", "QCP", OcpiVersion.V230);
        var flooder = await world.AddPartyAsync(Roles.Emsp, "DE", "FLD", OcpiVersion.V230);
        var honest = await world.AddPartyAsync(Roles.Emsp, "DE", "HON", OcpiVersion.V230);
        var commands = world.Hub.BaseUrl + "/ocpi/2.3.0/receiver/commands/START_SESSION";

        for (var i = 0; i < 2; i++)
            using (var sent = await flooder.CallAsync(HttpMethod.Post, commands, Command(flooder, $"F{i}"), flooder.To(cpo)))
                Assert.Equal(1000, (await sent.EnvelopeAsync())["status_code"]!.GetValue<int>());
        using (var third = await flooder.CallAsync(HttpMethod.Post, commands, Command(flooder, "F2"), flooder.To(cpo)))
            await AssertRefusedAsync(third, HttpStatusCode.TooManyRequests, 2000);
        Assert.Equal(2, cpo.Commands.Count);

        using (var other = await honest.CallAsync(HttpMethod.Post, commands, Command(honest, "H0"), honest.To(cpo)))
            Assert.Equal(1000, (await other.EnvelopeAsync())["status_code"]!.GetValue<int>());
        Assert.Equal(3, cpo.Commands.Count);

        // A result frees a slot of the flooder.
        Assert.True(cpo.Commands.TryDequeue(out var first));
        using (var result = await cpo.CallAsync(HttpMethod.Post, first.Body["response_url"]!.GetValue<string>(), new JsonObject { ["result"] = "ACCEPTED" }))
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        using (var again = await flooder.CallAsync(HttpMethod.Post, commands, Command(flooder, "F3"), flooder.To(cpo)))
            Assert.Equal(1000, (await again.EnvelopeAsync())["status_code"]!.GetValue<int>());
    }

    // ---- helpers ----

    private static JsonObject Command(FakeParty emsp, string reference) => new()
    {
        ["response_url"] = $"{emsp.BaseUrl}/ocpi/2.3.0/emsp/command-results/{reference}", ["token"] = emsp.Token("CARD7", "RFID"),
        ["location_id"] = "LOC1", ["evse_uid"] = "EVSE1",
    };

    /// <summary>Every module the party could use, the credentials module with each method included, refuses <paramref name="token"/>.</summary>
    private static async Task AssertLockedOutAsync(HubWorld world, FakeParty emsp, FakeParty cpo, string token)
    {
        var v = world.Hub.BaseUrl + "/ocpi/2.3.0";
        emsp.RotateTokenB();
        var attempts = new (HttpMethod Method, string Url, JsonNode? Body, Dictionary<string, string>? Headers)[]
        {
            (HttpMethod.Get, world.Hub.VersionsUrl, null, null),
            (HttpMethod.Get, v + "/details", null, null),
            (HttpMethod.Get, v + "/credentials", null, null),
            (HttpMethod.Put, v + "/credentials", emsp.CredentialsBody(), null),
            (HttpMethod.Post, v + "/credentials", emsp.CredentialsBody(), null),
            (HttpMethod.Put, $"{v}/receiver/tokens/DE/{emsp.PartyId}/CARD9?type=RFID", emsp.Token("CARD9", "RFID"), null),
            (HttpMethod.Get, v + "/sender/locations/LOC1", null, emsp.To(cpo)),
            (HttpMethod.Get, v + "/sender/hubclientinfo", null, null),
            (HttpMethod.Delete, v + "/credentials", null, null),
        };
        foreach (var (method, url, body, headers) in attempts)
        {
            using var r = await emsp.CallAsync(method, url, body, headers, token: token);
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.Unauthorized, $"{method} {url} was served: HTTP {(int)r.StatusCode} {text}");
            Assert.Equal(2000, JsonNode.Parse(text)!["status_code"]!.GetValue<int>());
        }
        Assert.Empty(cpo.PushedTokens);
        Assert.DoesNotContain(cpo.ReceivedRequests, r => r.Path.EndsWith("/LOC1", StringComparison.Ordinal));
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage r, HttpStatusCode http, int ocpi)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == http, $"Expected HTTP {(int)http}, got {(int)r.StatusCode}: {text}");
        var envelope = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(ocpi, envelope["status_code"]!.GetValue<int>());
        Assert.Null(envelope["data"]);
    }

    private static async Task<HttpResponseMessage> OperatorAsync(HubWorld world, string path)
    {
        using var http = new HttpClient { BaseAddress = new Uri(world.Hub.BaseUrl) };
        return await http.PostAsync(path, null);
    }
}
