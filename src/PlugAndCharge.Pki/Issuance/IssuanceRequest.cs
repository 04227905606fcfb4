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
