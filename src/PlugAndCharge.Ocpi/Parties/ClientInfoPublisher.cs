using System.Text.Json;
using Microsoft.Extensions.Logging;
using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Protocol;
using PlugAndCharge.Ocpi.Transport;

namespace PlugAndCharge.Ocpi.Parties;

/// <summary>
/// hubclientinfo: the hub tells every party implementing the hubclientinfo receiver interface when another party's
/// connection status changes (PUT {hubclientinfo}/{country_code}/{party_id}), if it may reach that party (its roaming
/// agreements). Sent in the background so a slow party never holds up a registration.
/// </summary>
public sealed class ClientInfoPublisher(PartyDirectory parties, PartyClients clients, IRoamingAgreements agreements, ILogger<ClientInfoPublisher> log)
{
    public static string StatusText(PartyStatus s) => s.ToString().ToUpperInvariant();

    public void Publish(PartyRecord changed) => _ = Task.Run(async () =>
    {
        try { await PublishAsync(changed, CancellationToken.None); }
        catch (Exception e) { log.LogWarning(e, "hubclientinfo push for party {Party} failed", changed.Id); }
    });

    public async Task PublishAsync(PartyRecord changed, CancellationToken ct)
    {
        var calls = new List<Task<PartyResponse>>();
        foreach (var p in await parties.AllAsync(ct))
        {
            if (p.Id == changed.Id || !p.IsRegistered || p.Status != PartyStatus.Connected) continue;
            if (p.Endpoint("hubclientinfo", InterfaceRoles.Receiver) is not { } endpoint) continue;
            OcpiVersions.TryParse(p.Version, out var v);
            foreach (var role in changed.Roles)
            {
                if (v == OcpiVersion.V230 && role.Role == Roles.Hub) continue;
                if (!await agreements.MayReachAsync(p.Roles, role, ct)) continue;
                var info = new ClientInfo(role.PartyId, role.CountryCode, role.Role, StatusText(changed.Status), changed.UpdatedAt);
                var body = JsonSerializer.SerializeToUtf8Bytes(info, OcpiJsonContext.Default.ClientInfo);
                calls.Add(clients.For(p).SendAsync(HttpMethod.Put, $"{endpoint.Url.TrimEnd('/')}/{role.CountryCode}/{role.PartyId}", p.OutgoingToken!,
                    Guid.NewGuid().ToString(), default, body, clients.TimeoutFor(p), ct));
            }
        }
        await Task.WhenAll(calls);
    }
}
