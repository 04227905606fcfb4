using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Contracts;

/// <summary>
/// Decides whether a contract certificate is usable: within its validity at the clock's now and not revoked by its CA.
/// The one place that decides it; authorization (OCPP Authorize, the OCPI hub), the contracts API, renewal and the
/// update of an installed contract ask here. A certificate an eMSP's own MO CA made (no issuer here) is never revoked
/// by us: its eMSP answers for it.
/// </summary>
public sealed class ContractCertificateStatus(ICertificateStore issuedCertificates, TimeProvider clock)
{
    /// <summary>The verdict from the certificate's facts; revocation outranks the validity period.</summary>
    public static ContractCertificateState Decide(DateTimeOffset notBefore, DateTimeOffset notAfter, bool revoked, DateTimeOffset now) =>
        revoked ? ContractCertificateState.Revoked
        : now < notBefore ? ContractCertificateState.NotYetValid
        : now > notAfter ? ContractCertificateState.Expired
        : ContractCertificateState.Valid;

    /// <summary>
    /// Whether the CA revoked the certificate; <paramref name="known"/> is the answer when the caller read it with the
    /// certificate already (<see cref="Stores.ContractStatusRecord.CertificateRevoked"/>), else the CA's record is asked.
    /// </summary>
    public async ValueTask<bool> IsRevokedAsync(string? issuerId, string serial, bool? known = null, CancellationToken ct = default) =>
        known ?? (issuerId != null && await issuedCertificates.GetAsync(issuerId, serial, ct) is { Status: CertificateStatus.Revoked });

    public async ValueTask<ContractCertificateState> OfAsync(string? issuerId, string serial, DateTimeOffset notBefore, DateTimeOffset notAfter, bool? revoked = null,
        CancellationToken ct = default) =>
        Decide(notBefore, notAfter, await IsRevokedAsync(issuerId, serial, revoked, ct), clock.GetUtcNow());

    public ValueTask<ContractCertificateState> OfAsync(ContractCertificate certificate, CancellationToken ct = default) =>
        OfAsync(certificate.IssuerId, certificate.Serial, certificate.NotBefore, certificate.NotAfter, null, ct);
}
