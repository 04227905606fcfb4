using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Pki.Issuance;

/// <summary>What to issue: a profile, the issuing CA, and a key from a CSR or a bare public key.</summary>
public sealed class IssuanceRequest
{
    public required string ProfileId { get; init; }
    public required string IssuerId { get; init; }
    /// <summary>DER PKCS#10; its signature is checked. Exactly one of Csr / PublicKey.</summary>
    public byte[]? Csr { get; init; }
    public SubjectPublicKeyInfo? PublicKey { get; init; }
    /// <summary>Subject to certify; defaults to the CSR's subject.</summary>
    public X509Name? Subject { get; init; }
    public TimeSpan? Validity { get; init; }
    /// <summary>DNS names and IP addresses for subjectAltName; only profiles with <c>subjectAltName: true</c> accept them.</summary>
    public IReadOnlyList<GeneralName> SubjectAltNames { get; init; } = [];
    public required string Actor { get; init; }
}

public sealed record IssuedCertificate(CertificateRecord Record, X509Certificate Certificate, IReadOnlyList<X509Certificate> IssuerChain)
{
    /// <summary>Leaf first, then the issuer chain up to and including the root.</summary>
    public string ToPemChain()
    {
        var sb = new System.Text.StringBuilder();
        foreach (var c in new[] { Certificate }.Concat(IssuerChain))
            sb.Append(System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", c.GetEncoded())).Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// A certificate signed and verified whose record and audit entry are not stored yet (<see cref="CertificateIssuer.SignAsync"/>):
/// nothing of it is recorded until the caller stores <see cref="Issued"/>.Record with <see cref="Audit"/> in the same
/// transaction as its own change (so neither exists without the other), or gives it up with
/// <see cref="CertificateIssuer.AbandonAsync"/>. It must not be handed out before it is stored.
/// </summary>
public sealed record PendingIssuance(IssuedCertificate Issued, AuditEvent Audit);
