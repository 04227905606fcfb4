using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Validation;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Contracts.Pools;

/// <summary>What the pools read off a certificate: names, identifiers, fingerprints, key type.</summary>
public static class CertificateFacts
{
    /// <summary>Parses DER (tolerantly: field certificates are not always canonical DER) or fails with <see cref="ContractError.Malformed"/>.</summary>
    public static X509Certificate Read(byte[] der, string what)
    {
        if (der == null || der.Length == 0) throw new ContractException(ContractError.Malformed, $"The {what} is empty.");
        try { return CertificateReader.ReadCertificate(der); }
        catch (Exception e) when (e is FormatException or ArgumentException or IOException or InvalidCastException or Org.BouncyCastle.Asn1.Asn1Exception or Org.BouncyCastle.Security.Certificates.CertificateException)
        {
            throw new ContractException(ContractError.Malformed, $"The {what} is not a DER X.509 certificate.", e);
        }
    }

    public static string Fingerprint(byte[] der) => Convert.ToHexStringLower(SHA256.HashData(der));

    public static string? CommonName(X509Certificate c) => DistinguishedNames.CommonName(c.SubjectDN);

    public static string? Organization(X509Certificate c)
    {
        var values = c.SubjectDN.GetValueList(X509Name.O);
        return values.Count > 0 ? values[0] : null;
    }

    public static string SerialHex(X509Certificate c) => SerialNumbers.ToHex(c.SerialNumber);

    public static byte[] SubjectKeyIdentifier(X509Certificate c)
    {
        var ext = c.GetExtensionValue(X509Extensions.SubjectKeyIdentifier);
        return ext != null
            ? Org.BouncyCastle.Asn1.X509.SubjectKeyIdentifier.GetInstance(Asn1OctetString.GetInstance(ext).GetOctets()).GetKeyIdentifier()
            : PublicKeys.KeyIdentifier(c.SubjectPublicKeyInfo);
    }

    public static KeyAlgorithm KeyAlgorithmOf(X509Certificate c)
    {
        try { return PublicKeys.Identify(c.SubjectPublicKeyInfo); }
        catch (Pki.PkiException e) { throw new ContractException(ContractError.ProfileViolation, $"Unsupported key in {c.SubjectDN}: {e.Message}", e); }
    }

    public static bool IsSelfSigned(X509Certificate c) => c.IssuerDN.Equivalent(c.SubjectDN, true);

    public static DateTimeOffset NotBefore(X509Certificate c) => new(DateTime.SpecifyKind(c.NotBefore, DateTimeKind.Utc));
    public static DateTimeOffset NotAfter(X509Certificate c) => new(DateTime.SpecifyKind(c.NotAfter, DateTimeKind.Utc));

    /// <summary>
    /// True when an xmldsig X509IssuerName + X509SerialNumber (a vehicle's ListOfRootCertificateIDs entry) names this root.
    /// Vehicles write the name in either RDN order (the Hubject request has "DC=V2G,C=DE,O=...,CN=..."), so names are
    /// compared as sets of attribute type and value, case-insensitively.
    /// </summary>
    public static bool MatchesIssuerSerial(X509Certificate root, string issuerName, System.Numerics.BigInteger serial)
    {
        if (new System.Numerics.BigInteger(root.SerialNumber.ToByteArray(), isUnsigned: false, isBigEndian: true) != serial) return false;
        return SameName(root.SubjectDN, issuerName);
    }

    public static bool SameName(X509Name name, string text)
    {
        X509Name other;
        try { other = new X509Name(text); }
        catch (ArgumentException) { return false; }
        return Set(name).SetEquals(Set(other));

        static HashSet<string> Set(X509Name n)
        {
            var oids = n.GetOidList();
            var values = n.GetValueList();
            var set = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < oids.Count; i++) set.Add(oids[i].Id + "=" + values[i].Trim().ToUpperInvariant());
            return set;
        }
    }

    /// <summary>The secp256r1 / secp521r1 / ed448 name OPCP uses for a certificate's signature algorithm.</summary>
    public static string SignatureAlgorithmName(X509Certificate c) => c.SigAlgOid switch
    {
        "1.3.101.113" => "ed448",
        "1.2.840.10045.4.3.4" => "secp521r1", // ecdsa-with-SHA512
        _ => "secp256r1",
    };
}
