namespace PlugAndCharge.Contracts.Pools;

/// <summary>OPCP rootType: V2G (charging and CPS), MO (contracts), OEM (vehicles), PE (private environment).</summary>
public enum RootType { V2G, MO, OEM, PE }

/// <summary>
/// A root registered in the root certificate pool (OPCP <c>RootCertV2</c>). <see cref="OwnerId"/> is the participant that
/// registered an OEM or MO root; <see cref="Wmis"/> scope an OEM root to the vehicles it may vouch for.
/// </summary>
public sealed record RootCertificate
{
    public required Guid Id { get; init; }
    public required RootType Type { get; init; }
    public required byte[] Der { get; init; }
    /// <summary>SHA-256 of the DER, lower-case hex.</summary>
    public required string Fingerprint { get; init; }
    public required string DistinguishedName { get; init; }
    public required string CommonName { get; init; }
    /// <summary>Lower-case hex of the serial number, no leading zeros.</summary>
    public required string SerialNumber { get; init; }
    /// <summary>Subject key identifier, lower-case hex (empty when the root has none).</summary>
    public required string KeyIdentifier { get; init; }
    public required DateTimeOffset ValidFrom { get; init; }
    public required DateTimeOffset ValidTo { get; init; }
    public required IsoStandard Standard { get; init; }
    /// <summary>secp256r1, secp521r1 or ed448.</summary>
    public required string SignatureAlgorithm { get; init; }
    public string? OrganizationName { get; init; }
    public string? OwnerId { get; init; }
    public IReadOnlyList<string> Wmis { get; init; } = [];
    public DateTimeOffset AddedAt { get; init; }
}
