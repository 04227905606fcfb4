using PlugAndCharge.Core.Identifiers;

namespace PlugAndCharge.Core.Participants;

/// <summary>
/// A registered participant and the identities it owns. Every request is scoped by these: an eMSP touches only
/// EMAIDs of its provider IDs, an OEM only PCIDs of its WMIs, a CPO only EVSE IDs of its operator IDs.
/// </summary>
public sealed record Participant
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required ParticipantRole Role { get; init; }
    /// <summary>Normalized (upper case, no separators) WMIs, provider IDs or operator IDs, per <see cref="Role"/>.</summary>
    public IReadOnlyList<string> Identities { get; init; } = [];
    /// <summary>The organization name CSRs of this participant must carry (OCPP SignCertificate: O = the CPO's organization).</summary>
    public string? Organization { get; init; }
    public bool Disabled { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public bool IsAdmin => Role == ParticipantRole.Admin;

    public bool Owns(string identity) => Identities.Contains(ParticipantIdentities.Normalize(identity), StringComparer.Ordinal);

    /// <summary>An eMSP owns an EMAID when its provider ID (country + provider, ISO 15118-1 Annex H) is one of its identities.</summary>
    public bool OwnsEmaid(Emaid emaid) => Role == ParticipantRole.Emsp && Owns(emaid.ProviderPrefix);

    /// <summary>An OEM owns a PCID when the PCID starts with one of its WMIs (ISO 3779).</summary>
    public bool OwnsPcid(Pcid pcid) => Role == ParticipantRole.Oem && Owns(pcid.Value[..3]);

    /// <summary>A CPO owns an EVSE ID when its operator ID (country + operator) is one of its identities.</summary>
    public bool OwnsEvseId(string evseId) => Role == ParticipantRole.Cpo && EvseId.TryGetOperatorId(evseId, out var op) && Owns(op);
}
