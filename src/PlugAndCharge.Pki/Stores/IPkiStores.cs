using PlugAndCharge.Pki.Revocation;

namespace PlugAndCharge.Pki.Stores;

/// <summary>CAs and their CRLs. Each write records its audit event in the same transaction.</summary>
public interface ICertificateAuthorityStore
{
    Task<CaRecord?> GetAsync(string id, CancellationToken ct = default);
    Task<IReadOnlyList<CaRecord>> ListAsync(CancellationToken ct = default);
    /// <summary>Adds a CA (a root with its own self-signed certificate row); fails with AlreadyExists when the id is taken.</summary>
    Task CreateAsync(CaRecord ca, CertificateRecord? selfSignedCertificate, AuditEvent audit, CancellationToken ct = default);
    Task SetOcspSignerAsync(string caId, string serial, string keyUri, AuditEvent audit, CancellationToken ct = default);
    /// <summary>Atomically takes the next CRL number of a CA (strictly increasing, never reused).</summary>
    Task<long> NextCrlNumberAsync(string caId, CancellationToken ct = default);
    Task StoreCrlAsync(CrlRecord crl, AuditEvent audit, CancellationToken ct = default);
    Task<CrlRecord?> GetLatestCrlAsync(string caId, CancellationToken ct = default);
}

/// <summary>Issued certificates: the counter behind their serials, the record after signing, revocation.</summary>
public interface ICertificateStore
{
    /// <summary>
    /// <paramref name="count"/> values of a counter shared by every issuer and instance that never gives a value twice,
    /// not even after a rollback or a restart (1..<see cref="X509.SerialNumbers.MaxCounter"/>): the unique part of each
    /// serial (<see cref="X509.SerialNumbers.Compose"/>).
    /// </summary>
    Task<IReadOnlyList<long>> NextSerialCountersAsync(int count, CancellationToken ct = default);
    /// <summary>Records an issued certificate once (its profile, subject, validity and DER); a serial recorded before fails with SerialCollision.</summary>
    Task RecordIssuedAsync(CertificateRecord certificate, AuditEvent audit, CancellationToken ct = default);
    /// <summary>Records that a serial was signed or about to be but its certificate was never handed out; nothing when the certificate is recorded already.</summary>
    Task RecordFailedAsync(string issuerId, string serial, AuditEvent audit, CancellationToken ct = default);
    Task<CertificateRecord?> GetAsync(string issuerId, string serial, CancellationToken ct = default);

    /// <summary>The records of several (issuer, serial) pairs, those that exist (a chain's revocation in one read).</summary>
    async Task<IReadOnlyList<CertificateRecord>> GetManyAsync(IReadOnlyCollection<(string IssuerId, string Serial)> keys, CancellationToken ct = default)
    {
        var found = new List<CertificateRecord>(keys.Count);
        foreach (var (issuer, serial) in keys)
            if (await GetAsync(issuer, serial, ct) is { } r) found.Add(r);
        return found;
    }

    Task<IReadOnlyList<CertificateRecord>> FindBySerialAsync(string serial, CancellationToken ct = default);
    Task<RevocationOutcome> RevokeAsync(string issuerId, string serial, RevocationReason reason, DateTimeOffset at, AuditEvent audit, CancellationToken ct = default);
    Task<IReadOnlyList<RevokedEntry>> ListRevokedAsync(string issuerId, CancellationToken ct = default);
}

public sealed record AuditEntry(long Sequence, DateTimeOffset At, string Actor, string Action, string Subject, string Details, byte[] PreviousHash, byte[] Hash);

public sealed record AuditVerification(bool Intact, long Entries, long? FirstBadSequence, string Detail);

/// <summary>The append-only, hash-chained audit log.</summary>
public interface IAuditLog
{
    Task AppendAsync(AuditEvent audit, CancellationToken ct = default);
    IAsyncEnumerable<AuditEntry> ReadAllAsync(CancellationToken ct = default);
}
