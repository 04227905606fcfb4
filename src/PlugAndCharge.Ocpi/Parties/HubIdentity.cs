using PlugAndCharge.Ocpi.Agreements;
using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Parties;

/// <summary>
/// How the hub presents itself: the HUB role in 2.2.1; in 2.3.0 (which has no HUB role) hub_party_id, with the roles of
/// the parties reachable through the hub for the party asking (those it may roam with) as the credentials' roles.
/// </summary>
public sealed class HubIdentity(OcpiHubOptions options, PartyDirectory parties, IRoamingAgreements agreements)
{
    public string CountryCode => options.CountryCode;
    public string PartyId => options.PartyId;

    public async Task<Credentials> CredentialsForAsync(OcpiVersion version, string token, string versionsUrl, PartyRecord caller, CancellationToken ct)
    {
        var details = new BusinessDetails(options.Name, options.Website);
        if (version == OcpiVersion.V221)
            return new Credentials(token, versionsUrl, [new CredentialsRole(Roles.Hub, details, options.PartyId, options.CountryCode)]);
        var reachable = new List<CredentialsRole>();
        foreach (var p in await parties.AllAsync(ct))
        {
            if (p.Id == caller.Id || p.Status is PartyStatus.Planned or PartyStatus.Suspended) continue;
            foreach (var r in p.Roles)
                if (r.Role != Roles.Hub && await agreements.MayReachAsync(caller.Roles, r, ct))
                    reachable.Add(new CredentialsRole(r.Role, new BusinessDetails(r.BusinessName ?? p.Name, null), r.PartyId, r.CountryCode));
        }
        return new Credentials(token, versionsUrl, reachable, options.CountryCode + options.PartyId);
    }
}
