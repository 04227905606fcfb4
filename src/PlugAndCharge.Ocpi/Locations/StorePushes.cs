using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Parties;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Routing;
using PlugAndCharge.Ocpi.Transport;

namespace PlugAndCharge.Ocpi.Locations;

/// <summary>
/// Pushes what a CPO changed to every party that receives the module (its locations or tariffs receiver interface) and
/// roams with that CPO for the scope, all at once (an EVSE status must reach every eMSP quickly). A push that fails is
/// recorded in PostgreSQL (<see cref="IPushRetryStore"/>) and <see cref="StorePushRetrier"/> sends the whole object again.
/// </summary>
public sealed class StorePushes(PartyDirectory parties, PartyClients clients, IRoamingAgreements agreements, IPushRetryStore retries,
    IHubObjectStore store, TimeProvider clock, OcpiHubOptions options, ILogger<StorePushes> log)
{
    internal static string Module(HubObjectKind kind) => kind == HubObjectKind.Location ? "locations" : "tariffs";
    internal static AgreementScope Scope(HubObjectKind kind) => kind == HubObjectKind.Location ? AgreementScope.Locations : AgreementScope.Tariffs;

    /// <summary>The parties the object's CPO may push this kind to, each with its receiver endpoint and the role it receives as.</summary>
    public async Task<List<(PartyRecord Party, PartyEndpoint Endpoint, PartyRole Role)>> ReceiversAsync(HubObjectKey key, CancellationToken ct)
    {
        var module = Module(key.Kind);
        var result = new List<(PartyRecord, PartyEndpoint, PartyRole)>();
        foreach (var p in await parties.AllAsync(ct))
        {
            if (!p.IsRegistered || p.Status is PartyStatus.Suspended or PartyStatus.Planned || p.FindRole(key.CountryCode, key.PartyId) != null) continue;
            if (p.Endpoint(module, InterfaceRoles.Receiver) is not { } endpoint) continue;
            var role = p.Roles.FirstOrDefault(r => r.Role != Roles.Cpo) ?? p.Roles.FirstOrDefault();
            if (role is null) continue;
            if ((await agreements.DecideAsync(key.Cpo, new RoamingParty(role.CountryCode, role.PartyId), Scope(key.Kind), ct)).Allowed)
                result.Add((p, endpoint, role));
        }
        return result;
    }

    /// <summary>Starts the push of one change (the CPO's own request, translated per receiver) and returns at once.</summary>
    public void Start(HubObjectKey key, string[] path, HttpMethod method, byte[] body, OcpiVersion version, string correlationId) =>
        _ = Task.Run(async () =>
        {
            try
            {
                var receivers = await ReceiversAsync(key, CancellationToken.None);
                await Task.WhenAll(receivers.Select(r => SendAsync(r.Party, r.Endpoint, r.Role, key, path, method,
                    VersionTranslation.Body(body, version, ModuleRouter.Version(r.Party)), correlationId, CancellationToken.None)));
            }
            catch (Exception e) { log.LogWarning(e, "Push of {Kind} {Id} of {Cpo} failed", key.Kind, key.Id, key.Cpo); }
        });

    /// <summary>Sends one push; a failure is recorded for a retry of the whole object. True when the party took it.</summary>
    internal async Task<bool> SendAsync(PartyRecord party, PartyEndpoint endpoint, PartyRole role, HubObjectKey key, string[] path, HttpMethod method,
        byte[] body, string correlationId, CancellationToken ct)
    {
        var url = new StringBuilder(endpoint.Url.TrimEnd('/')).Append('/').Append(Uri.EscapeDataString(key.CountryCode)).Append('/')
            .Append(Uri.EscapeDataString(key.PartyId));
        foreach (var segment in path) url.Append('/').Append(Uri.EscapeDataString(segment));
        var routing = new RoutingParties(key.CountryCode, key.PartyId, role.CountryCode, role.PartyId);
        var response = await clients.For(party).SendAsync(method, url.ToString(), party.OutgoingToken!, correlationId, routing, body, clients.TimeoutFor(party), ct);
        if (response.IsSuccess) return true;
        try { await retries.RecordAsync(party.Id, key, clock.GetUtcNow() + options.StorePushRetryInterval, CancellationToken.None); }
        catch (Exception e) { log.LogWarning(e, "Could not record the failed push of {Kind} {Id} to {Party}", key.Kind, key.Id, party.Id); }
        return false;
    }

    /// <summary>One round of retries: each due push sends the object as it is now (PUT), or DELETE for a tariff that is gone.</summary>
    public async Task<int> RetryDueAsync(CancellationToken ct)
    {
        var due = await retries.ClaimDueAsync(100, TimeSpan.FromMinutes(1), ct);
        var sent = 0;
        foreach (var push in due)
        {
            var party = await parties.GetAsync(push.PartyId, ct);
            var receivers = party is null ? [] : await ReceiversAsync(push.Key, ct);
            var found = receivers.FindIndex(r => r.Party.Id == party!.Id);
            if (found < 0 || push.Attempts >= options.StorePushMaxAttempts)
            {
                await retries.CompleteAsync(push.Id, null, ct); // gone, no longer agreed, or given up: the party can pull the list
                continue;
            }
            var receiver = receivers[found];
            var target = receiver.Party;
            var stored = await store.GetAsync(push.Key, ct);
            var (method, body) = stored is null ? (HttpMethod.Delete, Array.Empty<byte>())
                : (HttpMethod.Put, VersionTranslation.Body(Encoding.UTF8.GetBytes(stored.Json), stored.Version, ModuleRouter.Version(target)));
            if (stored is null && push.Key.Kind == HubObjectKind.Location) { await retries.CompleteAsync(push.Id, null, ct); continue; }
            var response = await clients.For(target).SendAsync(method, PushUrl(receiver.Endpoint, push.Key), target.OutgoingToken!, Guid.NewGuid().ToString(),
                new RoutingParties(push.Key.CountryCode, push.Key.PartyId, receiver.Role.CountryCode, receiver.Role.PartyId), body, clients.TimeoutFor(target), ct);
            if (response.IsSuccess) sent++;
            var backoff = TimeSpan.FromTicks(Math.Min(options.StorePushRetryInterval.Ticks << Math.Min(push.Attempts, 10), TimeSpan.FromMinutes(10).Ticks));
            await retries.CompleteAsync(push.Id, response.IsSuccess ? null : clock.GetUtcNow() + backoff, ct);
        }
        return sent;
    }

    private static string PushUrl(PartyEndpoint endpoint, HubObjectKey key) =>
        $"{endpoint.Url.TrimEnd('/')}/{Uri.EscapeDataString(key.CountryCode)}/{Uri.EscapeDataString(key.PartyId)}/{Uri.EscapeDataString(key.Id)}";
}

/// <summary>Retries failed pushes on every instance (each claims its own rows; see <see cref="IPushRetryStore.ClaimDueAsync"/>).</summary>
public sealed class StorePushRetrier(StorePushes pushes, OcpiHubOptions options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.StorePushRetryInterval <= TimeSpan.Zero) return;
        using var timer = new PeriodicTimer(options.StorePushRetryInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try { await pushes.RetryDueAsync(stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { /* the database may be away: the next tick tries again */ }
        }
    }
}
