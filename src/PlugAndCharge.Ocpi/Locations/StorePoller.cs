using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Routing;
using PlugAndCharge.Ocpi.Transport;

namespace PlugAndCharge.Ocpi.Locations;

/// <summary>
/// Pulls what CPOs changed from their locations and tariffs sender interfaces, incrementally: date_from is when the last
/// complete pull started (kept in PostgreSQL), the pages are followed by their Link, and every object goes through the
/// same write as a push (older than what is stored: kept; changed: pushed on). One instance polls at a time, the holder
/// of a lease row that any instance takes over when its holder stops renewing it. The holder renews it before every page,
/// so a round longer than the lease is not repeated by a second instance; a holder that finds the lease taken stops.
/// </summary>
public sealed class StorePoller(PartyDirectory parties, PartyClients clients, IHubObjectStore store, IPullSyncStore sync, StorePushes pushes,
    TimeProvider clock, OcpiHubOptions options, ILogger<StorePoller> log) : BackgroundService
{
    private readonly string _holder = Guid.NewGuid().ToString("N");
    private const int MaxPagesPerRound = 10_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.StorePollInterval <= TimeSpan.Zero) return;
        using var timer = new PeriodicTimer(options.StorePollInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try { await PollOnceAsync(stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { log.LogWarning(e, "Location/tariff poll failed; the next round tries again"); }
        }
    }

    private TimeSpan LeaseDuration => options.StorePollInterval * 2 + TimeSpan.FromMinutes(1);

    /// <summary>One round, if this instance holds the lease: every registered CPO's sender interfaces. Returns the objects taken.</summary>
    public async Task<int> PollOnceAsync(CancellationToken ct)
    {
        var taken = 0;
        if (!await sync.TryLeaseAsync(_holder, LeaseDuration, ct)) return taken;
        foreach (var party in await parties.AllAsync(ct))
        {
            if (!party.IsRegistered || party.Status is PartyStatus.Suspended or PartyStatus.Planned || !party.HasRole(Roles.Cpo)) continue;
            foreach (var kind in new[] { HubObjectKind.Location, HubObjectKind.Tariff })
                if (party.Endpoint(StorePushes.Module(kind), InterfaceRoles.Sender) is { } endpoint)
                {
                    var (objects, leaseHeld) = await PullAsync(party, endpoint, kind, ct);
                    taken += objects;
                    if (!leaseHeld) return taken;
                }
        }
        return taken;
    }

    /// <summary>Follows one sender interface's pages; stops (lease false) when another instance holds the lease.</summary>
    private async Task<(int Taken, bool LeaseHeld)> PullAsync(PartyRecord party, PartyEndpoint endpoint, HubObjectKind kind, CancellationToken ct)
    {
        var since = await sync.LastSyncAsync(party.Id, kind, ct);
        var started = clock.GetUtcNow();
        var version = ModuleRouter.Version(party);
        var url = endpoint.Url + (since is { } s ? "?date_from=" + Uri.EscapeDataString(UtcTimestampConverter.Format(s)) : "");
        var origin = new Uri(endpoint.Url).GetLeftPart(UriPartial.Authority);
        var taken = 0;
        for (var pages = 0; url != null && pages < MaxPagesPerRound; pages++)
        {
            if (!await sync.TryLeaseAsync(_holder, LeaseDuration, ct))
            {
                log.LogInformation("Pull of {Kind} from {Party} stopped: another instance holds the poll lease", kind, party.Id);
                return (taken, false); // the last sync stays where it was: the new holder asks again from there
            }
            var response = await clients.For(party).SendAsync(HttpMethod.Get, url, party.OutgoingToken!, Guid.NewGuid().ToString(),
                default, ReadOnlyMemory<byte>.Empty, clients.TimeoutFor(party), ct);
            if (!response.IsSuccess || ParseList(response.Body) is not { } data)
            {
                log.LogInformation("Pull of {Kind} from {Party} stopped: {Outcome} {Status}", kind, party.Id, response.Outcome, response.HttpStatus);
                return (taken, true); // the last sync stays where it was: the next round asks again from there
            }
            foreach (var item in data.OfType<JsonObject>())
                if (await TakeAsync(party, kind, item, version, ct)) taken++;
            url = NextLink(response.Link, origin);
        }
        await sync.SetLastSyncAsync(party.Id, kind, started, ct);
        return (taken, true);
    }

    /// <summary>Stores one pulled object as a PUT of its owner (a CPO role of this party); true when it changed the store.</summary>
    private async Task<bool> TakeAsync(PartyRecord party, HubObjectKind kind, JsonObject item, OcpiVersion version, CancellationToken ct)
    {
        if (HubObjectChanges.Text(item["country_code"]) is not { } cc || HubObjectChanges.Text(item["party_id"]) is not { } pid
            || HubObjectChanges.Text(item["id"]) is not { Length: > 0 and <= 36 } id || party.FindRole(cc, pid) is not { Role: Roles.Cpo }) return false;
        var key = HubObjectKey.Of(kind, cc, pid, id);
        StoredObject? before = null;
        try
        {
            var after = await store.ChangeAsync(key, current =>
            {
                before = current;
                // date_from is inclusive (OCPI pagination), so a pull returns again what the last one stored: an object no
                // newer than the stored copy is that copy, neither written nor pushed on again.
                if (current != null && HubObjectChanges.LastUpdated(item) is { } pulled && pulled <= current.LastUpdated) return current;
                return HubObjectChanges.Apply(current, key, [id], "PUT", item, version);
            }, ct);
            if (after is null || ReferenceEquals(after, before)) return false;
            pushes.Start(key, [id], HttpMethod.Put, Encoding.UTF8.GetBytes(after.Json), version, Guid.NewGuid().ToString());
            return true;
        }
        catch (HubObjectRefused) { return false; }
    }

    private static JsonArray? ParseList(byte[] body)
    {
        try { return JsonNode.Parse(body)?["data"] as JsonArray; }
        catch (JsonException) { return null; }
    }

    /// <summary>The next page, only on the sender's own origin (a Link elsewhere is not followed).</summary>
    private static string? NextLink(string? link, string origin) =>
        Pagination.LinkTarget(link) is { } next && next.GetLeftPart(UriPartial.Authority) == origin ? next.ToString() : null;
}
