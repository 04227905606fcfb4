namespace PlugAndCharge.Contracts.Pools;

public enum ProvisioningStatus { Active, Revoked }

/// <summary>
/// A vehicle in the provisioning certificate pool (OPCP <c>ProvisioningCertificateData</c>): its OEM provisioning
/// certificate (CN = PCID) and the OEM sub-CAs up to the registered OEM root it was verified against.
/// </summary>
public sealed record ProvisioningCertificate
{
    /// <summary>Upper-case PCID.</summary>
    public required string Pcid { get; init; }
    public required string OemId { get; init; }
    public required byte[] CertificateDer { get; init; }
    /// <summary>OEM Sub-CA 2 (when present) then Sub-CA 1, DER.</summary>
    public required IReadOnlyList<byte[]> SubCaDers { get; init; }
    public required Guid RootId { get; init; }
    public required IsoStandard Standard { get; init; }
    /// <summary>secp256r1, secp521r1, ed448 or x448: decides the ECDH curve of -20 deliveries.</summary>
    public required string KeyAlgorithm { get; init; }
    public required DateTimeOffset ValidTo { get; init; }
    public ProvisioningStatus Status { get; init; } = ProvisioningStatus.Active;
    public DateTimeOffset AddedAt { get; init; }
}

/// <summary>What an OEM uploads (OPCP <c>ProvisioningCertificate</c>): the leaf and its sub-CAs, DER.</summary>
public sealed record ProvisioningCertificateUpload(byte[] Certificate, byte[]? SubCa2Certificate, byte[]? SubCa1Certificate, IsoStandard? Standard = null);

/// <summary>Answer of the vehicle lookup: whether the pool knows the PCID, and how many contracts it has.</summary>
public sealed record VehicleLookup(string Pcid, bool Known, string? OemId, ProvisioningStatus? Status, int ActiveContracts, string? DefaultEmaid);
