namespace PlugAndCharge.Ocpi.Agreements;

/// <summary>What a roaming agreement between a CPO and an eMSP covers: OCPI modules and the hub's own services.</summary>
public enum AgreementScope { Tokens, Locations, Tariffs, Sessions, Cdrs, Commands, RealTimeAuthorization, PlugAndCharge }

/// <summary>The hub-wide policy for a CPO/eMSP pair that has recorded no agreement.</summary>
public enum RoamingDefault { Open, Closed }

/// <summary>One role of a party as agreements name it: OCPI country code and party ID (case-insensitive).</summary>
public readonly record struct RoamingParty(string CountryCode, string PartyId)
{
    public override string ToString() => $"{CountryCode}-{PartyId}".ToUpperInvariant();
}

/// <summary>Whether a route is allowed and, when it is not, a message naming the missing agreement.</summary>
public sealed record AgreementDecision(bool Allowed, string? Refusal)
{
    public static readonly AgreementDecision Allow = new(true, null);
    public static AgreementDecision Refuse(string refusal) => new(false, refusal);
}

/// <summary>
/// The roaming agreements every enforcement point asks: may this CPO and this eMSP exchange this scope now (the pair's
/// agreement: active and within its validity, covering the scope; without one, the hub-wide default).
/// </summary>
public interface IRoamingAgreements
{
    ValueTask<AgreementDecision> DecideAsync(RoamingParty cpo, RoamingParty emsp, AgreementScope scope, CancellationToken ct);
}

/// <summary>
/// The hub-wide default alone (<see cref="OcpiHubOptions.RoamingDefault"/>), for a hub that records no agreements.
/// </summary>
public sealed class DefaultRoamingPolicy(OcpiHubOptions options) : IRoamingAgreements
{
    public ValueTask<AgreementDecision> DecideAsync(RoamingParty cpo, RoamingParty emsp, AgreementScope scope, CancellationToken ct) =>
        ValueTask.FromResult(options.RoamingDefault == RoamingDefault.Open
            ? AgreementDecision.Allow
            : AgreementDecision.Refuse($"No roaming agreement between CPO {cpo} and eMSP {emsp} covers {scope}, and the hub's default is closed."));
}
