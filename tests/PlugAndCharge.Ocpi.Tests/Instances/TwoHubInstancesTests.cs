using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Routing;
using PlugAndCharge.Ocpi.Tests.Infrastructure;
using PlugAndCharge.Ocpi.Tests.Storage;
using PlugAndCharge.Ocpi.Tokens;
using PlugAndCharge.Storage.Ocpi;
using Xunit;

namespace PlugAndCharge.Ocpi.Tests.Instances;

/// <summary>
/// Issue 22, "any instance serves any request": two hub instances on one PostgreSQL database, as behind a load
/// balancer. A command sent through one may have its CommandResult posted to the other.
/// </summary>
public sealed class TwoHubInstancesTests(OcpiDatabaseFixture fx) : IClassFixture<OcpiDatabaseFixture>
{
    /// <summary>The system clock moved on by <see cref="Offset"/> (a callback's expiry without waiting for it).</summary>
    private sealed class MovableClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }

    private sealed class Cluster : IAsyncDisposable
    {
        public required HubHost A { get; init; }
        public required HubHost B { get; init; }
        public TrafficLog Traffic { get; } = new();
        public List<FakeParty> Parties { get; } = [];
        public Dictionary<FakeParty, string> Ids { get; } = [];

        public async Task<FakeParty> AddPartyAsync(string role, string cc, string pid)
        {
            var party = await FakeParty.StartAsync(role, cc, pid, OcpiVersion.V230, Traffic);
            Parties.Add(party);
            var (record, tokenA) = await A.Admin.CreateAsync(new PartyAdministration.NewParty(party.Name, [new PartyRole(role, cc, pid)]));
            Ids[party] = record.Id;
            await party.RegisterAsync(A.VersionsUrl, tokenA);
            // B learns of the parties at its next refresh (PartyRefreshInterval); here at once.
            await B.Services.GetRequiredService<PartyDirectory>().ReloadAsync();
            return party;
        }

        /// <summary>The same path on the other instance (a load balancer sends the CPO's post wherever it likes).</summary>
        public string OnB(string hubUrl) => B.BaseUrl + hubUrl[A.BaseUrl.Length..];

        public async ValueTask DisposeAsync()
        {
            foreach (var p in Parties) await p.DisposeAsync();
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
    }

    private async Task<Cluster> StartAsync(Action<OcpiHubOptions>? configure = null, TimeProvider? clock = null)
    {
        void Postgres(IServiceCollection s)
        {
            s.AddSingleton<IOcpiPartyStore>(new PostgresOcpiPartyStore(fx.Db, fx.DataAtRestKey));
            s.AddSingleton<IOcpiTokenStore>(new PostgresOcpiTokenStore(fx.Db));
            s.AddSingleton<ICommandCallbackStore>(new PostgresCommandCallbackStore(fx.Db));
            if (clock != null) s.AddSingleton(clock);
        }
        return new Cluster { A = await HubHost.StartAsync(configure, Postgres), B = await HubHost.StartAsync(configure, Postgres) };
    }

    private static JsonObject Command(FakeParty emsp, string reference) => new()
    {
        ["response_url"] = $"{emsp.BaseUrl}/ocpi/2.3.0/emsp/command-results/{reference}", ["token"] = emsp.Token("CARD7", "RFID"),
        ["location_id"] = "LOC1", ["evse_uid"] = "EVSE1",
    };

    private static async Task<int> StatusCodeAsync(HttpResponseMessage r) => (await r.EnvelopeAsync())["status_code"]!.GetValue<int>();

    private static async Task<string> SendCommandAsync(HubHost hub, FakeParty emsp, FakeParty cpo, string reference)
    {
        using var sent = await emsp.CallAsync(HttpMethod.Post, hub.BaseUrl + "/ocpi/2.3.0/receiver/commands/START_SESSION", Command(emsp, reference), emsp.To(cpo));
        Assert.Equal(1000, await StatusCodeAsync(sent));
        Assert.True(cpo.Commands.TryDequeue(out var received));
        return received.Body["response_url"]!.GetValue<string>();
    }

    [Fact]
    public async Task A_command_result_posted_to_the_other_instance_reaches_the_eMSP_exactly_once()
    {
        await using var cluster = await StartAsync();
        var cpo = await cluster.AddPartyAsync(Roles.Cpo, "NL", "TIC");
        var emsp = await cluster.AddPartyAsync(Roles.Emsp, "DE", "TIE");
        var other = await cluster.AddPartyAsync(Roles.Cpo, "BE", "TIO");
        var hubUrl = await SendCommandAsync(cluster.A, emsp, cpo, "REF1");
        Assert.StartsWith(cluster.A.BaseUrl + "/ocpi/2.3.0/hub/commandresult/", hubUrl, StringComparison.Ordinal);

        var result = new JsonObject { ["result"] = "ACCEPTED" };
        // Only the CPO the command went to may post it, on either instance.
        using (var forged = await other.CallAsync(HttpMethod.Post, cluster.OnB(hubUrl), result)) Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);

        // The CPO posts the same result to both instances at once (a retry racing the first post): one relays it.
        var posts = await Task.WhenAll(cpo.CallAsync(HttpMethod.Post, cluster.OnB(hubUrl), result), cpo.CallAsync(HttpMethod.Post, hubUrl, result));
        var statuses = posts.Select(p => p.StatusCode).ToList();
        foreach (var p in posts) p.Dispose();
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.All(statuses.Where(s => s != HttpStatusCode.OK), s => Assert.True(s is HttpStatusCode.NotFound or HttpStatusCode.Conflict, $"HTTP {(int)s}"));
        Assert.True(emsp.CommandResults.TryDequeue(out var delivered));
        Assert.Equal("REF1", delivered.Reference);
        Assert.Equal("ACCEPTED", delivered.Body["result"]!.GetValue<string>());
        Assert.Empty(emsp.CommandResults);

        // Answered: neither instance takes it again.
        using (var again = await cpo.CallAsync(HttpMethod.Post, cluster.OnB(hubUrl), result)) Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Empty(emsp.CommandResults);
    }

    [Fact]
    public async Task An_expired_callback_is_refused_on_every_instance_and_swept()
    {
        var clock = new MovableClock();
        await using var cluster = await StartAsync(o => o.CommandResultTimeout = TimeSpan.FromMinutes(15), clock);
        var cpo = await cluster.AddPartyAsync(Roles.Cpo, "NL", "TXC");
        var emsp = await cluster.AddPartyAsync(Roles.Emsp, "DE", "TXE");
        var hubUrl = await SendCommandAsync(cluster.A, emsp, cpo, "LATE");
        var id = hubUrl[(hubUrl.LastIndexOf('/') + 1)..];

        clock.Offset = TimeSpan.FromMinutes(16);
        var result = new JsonObject { ["result"] = "ACCEPTED" };
        foreach (var url in new[] { hubUrl, cluster.OnB(hubUrl) })
        {
            using var late = await cpo.CallAsync(HttpMethod.Post, url, result);
            Assert.Equal(HttpStatusCode.NotFound, late.StatusCode);
            Assert.Equal(OcpiStatus.ClientError, await StatusCodeAsync(late));
        }
        Assert.Empty(emsp.CommandResults);

        Assert.True(await cluster.B.Services.GetRequiredService<CommandCallbacks>().SweepExpiredAsync(default) >= 1);
        await using var conn = await fx.Db.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*)::int from ocpi_command_callbacks where id = @id", new { id }));
    }

    [Fact]
    public async Task A_relay_that_died_midway_frees_the_callback_after_its_lease_and_a_retry_elsewhere_delivers_it_once()
    {
        var clock = new MovableClock();
        await using var cluster = await StartAsync(clock: clock);
        var cpo = await cluster.AddPartyAsync(Roles.Cpo, "NL", "TDC");
        var emsp = await cluster.AddPartyAsync(Roles.Emsp, "DE", "TDE");
        var hubUrl = await SendCommandAsync(cluster.A, emsp, cpo, "CRASH");
        var id = hubUrl[(hubUrl.LastIndexOf('/') + 1)..];

        // Instance A took the result and died before relaying it (its claim stays in the database).
        var claim = await cluster.A.Services.GetRequiredService<CommandCallbacks>().ClaimAsync(id, cluster.Ids[cpo], default);
        Assert.Equal(CommandClaimStatus.Claimed, claim.Status);
        var result = new JsonObject { ["result"] = "ACCEPTED" };
        using (var meanwhile = await cpo.CallAsync(HttpMethod.Post, cluster.OnB(hubUrl), result))
        {
            Assert.Equal(HttpStatusCode.Conflict, meanwhile.StatusCode);
            Assert.Equal(OcpiStatus.ClientError, await StatusCodeAsync(meanwhile));
        }
        Assert.Empty(emsp.CommandResults);

        clock.Offset = CommandCallbacks.ClaimHold + TimeSpan.FromSeconds(1);
        using (var retry = await cpo.CallAsync(HttpMethod.Post, cluster.OnB(hubUrl), result)) Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.True(emsp.CommandResults.TryDequeue(out var delivered));
        Assert.Equal("CRASH", delivered.Reference);
        Assert.Empty(emsp.CommandResults);
    }

    [Fact]
    public async Task The_pending_command_budget_of_a_party_holds_across_instances()
    {
        await using var cluster = await StartAsync(o => o.MaxPendingCommandsPerParty = 2);
        var cpo = await cluster.AddPartyAsync(Roles.Cpo, "NL", "TBC");
        var flooder = await cluster.AddPartyAsync(Roles.Emsp, "DE", "TBF");
        var honest = await cluster.AddPartyAsync(Roles.Emsp, "DE", "TBH");

        var first = await SendCommandAsync(cluster.A, flooder, cpo, "F0");
        await SendCommandAsync(cluster.B, flooder, cpo, "F1");
        // Concurrent third commands on both instances: the budget is counted in the database, so both are refused.
        var thirds = await Task.WhenAll(
            flooder.CallAsync(HttpMethod.Post, cluster.A.BaseUrl + "/ocpi/2.3.0/receiver/commands/START_SESSION", Command(flooder, "F2"), flooder.To(cpo)),
            flooder.CallAsync(HttpMethod.Post, cluster.B.BaseUrl + "/ocpi/2.3.0/receiver/commands/START_SESSION", Command(flooder, "F3"), flooder.To(cpo)));
        foreach (var third in thirds)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
            Assert.Equal(OcpiStatus.ClientError, await StatusCodeAsync(third));
            third.Dispose();
        }
        Assert.Empty(cpo.Commands);

        await SendCommandAsync(cluster.B, honest, cpo, "H0");

        // A result posted to B frees the slot the command took on A.
        using (var result = await cpo.CallAsync(HttpMethod.Post, cluster.OnB(first), new JsonObject { ["result"] = "ACCEPTED" }))
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        await SendCommandAsync(cluster.A, flooder, cpo, "F4");
    }
}
