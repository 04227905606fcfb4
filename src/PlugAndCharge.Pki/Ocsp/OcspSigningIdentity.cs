using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Ocsp;

/// <summary>
/// Who signs a CA's OCSP responses: its delegated responder (RFC 6960 §4.2.2.2: issued by the CA, EKU id-kp-OCSPSigning,
/// its certificate sent in <c>certs</c>) or, when the CA has none, the CA key itself. ResponderID is byKey (§4.2.1).
/// </summary>
internal sealed class OcspSigningIdentity
{
    public required ISigningKey Key { get; init; }
    public required AlgorithmIdentifier SignatureAlgorithm { get; init; }
    /// <summary>SHA-1 of the signer's subjectPublicKey BIT STRING value (RFC 6960 §4.2.1 KeyHash).</summary>
    public required byte[] ResponderKeyHash { get; init; }
    /// <summary>The delegated signer's certificate, or null when the CA signs itself.</summary>
    public X509Certificate? Certificate { get; init; }
    /// <summary>No response may claim validity past the signer's own (RFC 6960 §4.2.2.2 relies on it).</summary>
    public DateTimeOffset NotAfter { get; init; }

    public static async Task<OcspSigningIdentity> LoadAsync(CaRecord ca, X509Certificate caCertificate, ICertificateStore certificates, KeyProviderRegistry keys, DateTimeOffset now, CancellationToken ct)
    {
        if (ca.OcspSignerSerial == null || ca.OcspSignerKeyUri == null)
        {
            var caKey = await keys.OpenAsync(KeyUri.Parse(ca.KeyUri), ct);
            return new OcspSigningIdentity
            {
                Key = caKey, SignatureAlgorithm = SignatureAlgorithms.IdentifierFor(caKey.Algorithm),
                ResponderKeyHash = SHA1.HashData(caCertificate.SubjectPublicKeyInfo.PublicKey.GetBytes()),
                NotAfter = new DateTimeOffset(caCertificate.NotAfter, TimeSpan.Zero),
            };
        }
        var record = await certificates.GetAsync(ca.Id, ca.OcspSignerSerial, ct);
        if (record?.Der == null) throw new PkiException(PkiError.UnknownCertificate, $"CA '{ca.Id}' names OCSP signer {ca.OcspSignerSerial}, which it never issued.");
        if (record.Status != CertificateStatus.Valid) throw new PkiException(PkiError.CaNotActive, $"The OCSP signer {ca.OcspSignerSerial} of '{ca.Id}' is {record.Status}.");
        var cert = new X509CertificateParser().ReadCertificate(record.Der);
        var key = await keys.OpenAsync(KeyUri.Parse(ca.OcspSignerKeyUri), ct);
        if (!cert.SubjectPublicKeyInfo.Equals(key.PublicKey))
            throw new PkiException(PkiError.SignatureCheckFailed, $"The OCSP signer key '{key.Uri}' of '{ca.Id}' does not match its certificate.");
        // RFC 6960 §4.2.2.2: the delegate is issued directly by the CA and carries id-kp-OCSPSigning.
        if (!cert.IssuerDN.Equivalent(caCertificate.SubjectDN, true) || !SignatureAlgorithms.Verify(caCertificate.SubjectPublicKeyInfo, cert.CertificateStructure.SignatureAlgorithm, cert.GetTbsCertificate(), cert.GetSignature()))
            throw new PkiException(PkiError.SignatureCheckFailed, $"The OCSP signer {ca.OcspSignerSerial} was not issued by '{ca.Id}'.");
        if (cert.GetExtendedKeyUsage()?.Contains(KeyPurposeID.id_kp_OCSPSigning) != true)
            throw new PkiException(PkiError.LintFailed, $"The OCSP signer {ca.OcspSignerSerial} of '{ca.Id}' lacks id-kp-OCSPSigning.");
        var notAfter = new DateTimeOffset(cert.NotAfter, TimeSpan.Zero);
        if (now < new DateTimeOffset(cert.NotBefore, TimeSpan.Zero) || now > notAfter)
            throw new PkiException(PkiError.ValidityNotAllowed, $"The OCSP signer {ca.OcspSignerSerial} of '{ca.Id}' is not valid now.");
        return new OcspSigningIdentity
        {
            Key = key, SignatureAlgorithm = SignatureAlgorithms.IdentifierFor(key.Algorithm), Certificate = cert, NotAfter = notAfter,
            ResponderKeyHash = SHA1.HashData(cert.SubjectPublicKeyInfo.PublicKey.GetBytes()),
        };
    }
}
