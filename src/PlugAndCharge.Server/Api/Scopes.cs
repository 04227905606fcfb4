using Microsoft.AspNetCore.Http;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Core.Participants;
using PlugAndCharge.Server.Authentication;

namespace PlugAndCharge.Server.Api;

/// <summary>
/// Whose data a call may touch, decided once for the contract APIs: an eMSP acts on EMAIDs of its provider IDs, an OEM
/// on PCIDs of its WMIs, the hub operator for anyone. Refusals are ContractExceptions, so Problems maps them to 400/403
/// problem details like every other domain refusal.
/// </summary>
internal static class Scopes
{
    public static Participant Me(HttpContext http) => http.User.Participant()!;

    /// <summary>The caller as the audit log names it.</summary>
    public static string Actor(HttpContext http) => http.User.Participant() is { } p ? $"participant:{p.Id}" : "anonymous";

    public static Emaid ParseEmaid(ContractOptions options, string? text) =>
        Emaid.TryParse(text, options.ReceivedEmaidStrictness, out var emaid, out var why) ? emaid : throw new ContractException(ContractError.Malformed, $"emaid: {why}");

    public static Pcid ParsePcid(string? text) =>
        Pcid.TryParse(text, out var pcid, out var why) ? pcid : throw new ContractException(ContractError.Malformed, $"pcid: {why}");

    /// <summary>The eMSP scope of a call about an existing EMAID: the caller's when the EMAID is under its provider IDs; null (anyone) for the hub operator.</summary>
    public static ContractOwner? EmspScope(HttpContext http, Emaid emaid)
    {
        var me = Me(http);
        if (me.IsAdmin) return null;
        if (!me.OwnsEmaid(emaid)) throw new ContractException(ContractError.ProviderNotAllowed, $"EMAID {emaid.Normalized} is not under one of your provider IDs.");
        return Owner(me);
    }

    /// <summary>
    /// The eMSP a new contract is made for: the caller; the hub operator acts for the eMSP participant that owns
    /// <paramref name="providerPrefix"/> (country + provider ID, from the EMAID or providerId).
    /// </summary>
    public static async Task<ContractOwner> EmspOwnerAsync(HttpContext http, IParticipantStore participants, string? providerPrefix)
    {
        var me = Me(http);
        if (!me.IsAdmin) return Owner(me);
        if (string.IsNullOrWhiteSpace(providerPrefix))
            throw new ContractException(ContractError.Malformed, "The hub operator acts for an eMSP: name its provider ID (providerId) or an EMAID under it.");
        return Owner(await OwnerOfAsync(http, participants, ParticipantRole.Emsp, providerPrefix, $"provider ID {ParticipantIdentities.Normalize(providerPrefix)}"));
    }

    /// <summary>The OEM scope of a call about a vehicle: the caller's id when the PCID's WMI is one of its own; null (anyone) for the hub operator.</summary>
    public static string? OemScope(HttpContext http, Pcid pcid)
    {
        var me = Me(http);
        if (me.IsAdmin) return null;
        if (!me.OwnsPcid(pcid)) throw new ContractException(ContractError.WmiNotAllowed, $"WMI {pcid.Wmi} of PCID {pcid} is not one of yours.");
        return me.Id;
    }

    /// <summary>The OEM a vehicle is added for: the caller (its WMI), or for the hub operator the OEM participant that owns the WMI.</summary>
    public static async Task<string> OemOwnerAsync(HttpContext http, IParticipantStore participants, Pcid pcid)
    {
        if (OemScope(http, pcid) is { } me) return me;
        return (await OwnerOfAsync(http, participants, ParticipantRole.Oem, pcid.Wmi, $"WMI {pcid.Wmi}")).Id;
    }

    /// <summary>The enabled participant of <paramref name="role"/> that owns <paramref name="identity"/> (provider ID or WMI).</summary>
    private static async Task<Participant> OwnerOfAsync(HttpContext http, IParticipantStore participants, ParticipantRole role, string identity, string what) =>
        (await participants.ListAsync(http.RequestAborted))
            .FirstOrDefault(p => p.Role == role && !p.Disabled && p.Owns(identity))
        ?? throw new ContractException(ContractError.Malformed, $"No {(role == ParticipantRole.Oem ? "OEM" : "eMSP")} participant owns {what}.");

    private static ContractOwner Owner(Participant p) => new(p.Id, p.Identities);
}
