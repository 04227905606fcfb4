using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Revocation;

/// <summary>Revokes certificates durably and idempotently: a repeat returns the first revocation unchanged.</summary>
public sealed class CertificateRevoker(ICertificateStore certificates, TimeProvider clock)
{
    /// <summary>
    /// Raised after a revocation is stored (issuer id, normalised serial), so this process's OCSP responder drops its
    /// cached answers at once; other processes learn of it from the database.
    /// </summary>
    public event Action<string, string>? Revoked;

    public async Task<RevocationOutcome> RevokeAsync(string issuerId, string serialHex, RevocationReason reason, string actor, CancellationToken ct = default)
    {
        if (reason == RevocationReason.RemoveFromCrl)
            throw new PkiException(PkiError.Malformed, "removeFromCRL is only meaningful in delta CRLs and cannot be a revocation reason (RFC 5280 §5.3.1).");
        var serial = SerialNumbers.Normalize(serialHex);
        var outcome = await certificates.RevokeAsync(issuerId, serial, reason, clock.GetUtcNow(), new AuditEvent(actor, "certificate.revoke", $"{issuerId}/{serial}",
            new Dictionary<string, string> { ["reason"] = reason.Name() }), ct);
        if (!outcome.Found) throw new PkiException(PkiError.UnknownCertificate, $"CA '{issuerId}' issued no certificate with serial {serial}.");
        Revoked?.Invoke(issuerId, serial);
        return outcome;
    }

    /// <summary>Revokes by serial alone when exactly one of our CAs issued it.</summary>
    public async Task<(string IssuerId, RevocationOutcome Outcome)> RevokeBySerialAsync(string serialHex, RevocationReason reason, string actor, CancellationToken ct = default)
    {
        var serial = SerialNumbers.Normalize(serialHex);
        var matches = (await certificates.FindBySerialAsync(serial, ct)).Where(c => c.Status != CertificateStatus.Reserved && c.Status != CertificateStatus.Failed).ToList();
        if (matches.Count == 0) throw new PkiException(PkiError.UnknownCertificate, $"No certificate with serial {serial}.");
        if (matches.Count > 1) throw new PkiException(PkiError.Malformed, $"Serial {serial} exists under several CAs ({string.Join(", ", matches.Select(m => m.IssuerId))}); name the issuer.");
        return (matches[0].IssuerId, await RevokeAsync(matches[0].IssuerId, serial, reason, actor, ct));
    }
}
