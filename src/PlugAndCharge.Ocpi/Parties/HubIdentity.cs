using PlugAndCharge.Ocpi.Protocol;

namespace PlugAndCharge.Ocpi.Parties;

/// <summary>How the hub presents itself: the HUB role in 2.2.1, hub_party_id in 2.3.0 (which has no HUB role).</summary>
public sealed class HubIdentity(OcpiHubOptions options)
{
    public string CountryCode => options.CountryCode;
    public string PartyId => options.PartyId;

    public Credentials CredentialsFor(OcpiVersion version, string token, string versionsUrl)
    {
        var details = new BusinessDetails(options.Name, options.Website);
        return version == OcpiVersion.V221
            ? new Credentials(token, versionsUrl, [new CredentialsRole(Roles.Hub, details, options.PartyId, options.CountryCode)])
            : new Credentials(token, versionsUrl, [], options.CountryCode + options.PartyId);
    }
}
