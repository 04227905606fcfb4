namespace PlugAndCharge.Pki.Stores;

public enum CaStatus { Active, Retired }

/// <summary>A CA of this service: its profile, where its key lives, its certificate and its delegated OCSP signer.</summary>
public sealed record CaRecord
{
    public required string Id { get; init; }
    public required string ProfileId { get; init; }
    public string? ParentId { get; init; }
    public required string KeyUri { get; init; }
    public required byte[] CertificateDer { get; init; }
    public CaStatus Status { get; init; } = CaStatus.Active;
    public string? OcspSignerSerial { get; init; }
    public string? OcspSignerKeyUri { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// A certificate row's state. Failed: its serial was used but the certificate never handed out. Reserved: a serial taken
/// before signing by versions before serials were unique by construction (migration 0007); readers treat it like Failed.
/// </summary>
public enum CertificateStatus { Reserved, Valid, Revoked, Failed }

/// <summary>A certificate this service issued (or a serial it used without handing a certificate out: Failed). Serials are lower-case hex of the positive integer, no leading zeros.</summary>
public sealed record CertificateRecord
{
    public required string IssuerId { get; init; }
    public required string Serial { get; init; }
    public required string ProfileId { get; init; }
    public required string Subject { get; init; }
    public DateTimeOffset NotBefore { get; init; }
    public DateTimeOffset NotAfter { get; init; }
    public byte[]? Der { get; init; }
    public byte[]? Sha256 { get; init; }
    public CertificateStatus Status { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public Revocation.RevocationReason? RevocationReason { get; init; }
}

public sealed record CrlRecord(string IssuerId, long Number, DateTimeOffset ThisUpdate, DateTimeOffset NextUpdate, byte[] Der);

public sealed record RevokedEntry(string Serial, DateTimeOffset RevokedAt, Revocation.RevocationReason Reason);

/// <summary>What an audited operation says about itself; the log adds sequence, time and the hash chain.</summary>
public sealed record AuditEvent(string Actor, string Action, string Subject, IReadOnlyDictionary<string, string>? Details = null);
