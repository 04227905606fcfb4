using PlugAndCharge.Pki.Revocation;
namespace PlugAndCharge.Pki.Validation;

/// <summary>Revocation status of the certificate at <paramref name="CertificateIndex"/> of the path (0 = leaf).</summary>
public sealed record RevocationInfo(int CertificateIndex, RevocationStatus Status, DateTimeOffset? RevokedAt, RevocationReason? Reason, RevocationEvidence Evidence);
