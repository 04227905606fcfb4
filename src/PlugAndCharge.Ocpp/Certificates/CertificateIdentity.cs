using System.Globalization;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;

namespace PlugAndCharge.Ocpp.Certificates;

/// <summary>
/// An OCSP CertID (RFC 6960 §4.1.1) as OCPP carries it: hash algorithm, issuer name and key hashes (hex, any case) and
/// the serial number (hex, no leading zeros). Two identities with the same values are the same cache key.
/// </summary>
public sealed record CertificateIdentity(string HashAlgorithm, byte[] IssuerNameHash, byte[] IssuerKeyHash, BigInteger Serial)
{
    public string SerialHex => Serial.ToString(16).ToLowerInvariant();

    public string CacheKey => $"{HashAlgorithm}:{Convert.ToHexStringLower(IssuerNameHash)}:{Convert.ToHexStringLower(IssuerKeyHash)}:{SerialHex}";

    public static bool TryParse(string hashAlgorithm, string issuerNameHash, string issuerKeyHash, string serialNumber, out CertificateIdentity identity, out string error)
    {
        identity = null!;
        var length = CertificateHashes.Length(hashAlgorithm);
        if (length == 0) { error = $"Unknown hash algorithm {hashAlgorithm}."; return false; }
        if (!TryHex(issuerNameHash, out var name) || name.Length != length) { error = $"issuerNameHash must be {length * 2} hex digits."; return false; }
        if (!TryHex(issuerKeyHash, out var key) || key.Length != length) { error = $"issuerKeyHash must be {length * 2} hex digits."; return false; }
        var serial = serialNumber.Trim();
        if (serial.Length == 0 || serial.Length > 40 || !serial.All(char.IsAsciiHexDigit)) { error = "serialNumber must be 1-40 hex digits."; return false; }
        identity = new CertificateIdentity(hashAlgorithm, name, key, new BigInteger(serial, 16));
        error = "";
        return true;
    }

    public CertID ToCertId() => new(new AlgorithmIdentifier(HashOid(HashAlgorithm), DerNull.Instance),
        new DerOctetString(IssuerNameHash), new DerOctetString(IssuerKeyHash), new DerInteger(Serial));

    public bool Matches(CertID id) =>
        id.HashAlgorithm.Algorithm.Equals(HashOid(HashAlgorithm))
        && id.IssuerNameHash.GetOctets().AsSpan().SequenceEqual(IssuerNameHash)
        && id.IssuerKeyHash.GetOctets().AsSpan().SequenceEqual(IssuerKeyHash)
        && id.SerialNumber.Value.Equals(Serial);

    private static DerObjectIdentifier HashOid(string algorithm) => algorithm switch
    {
        "SHA256" => NistObjectIdentifiers.IdSha256,
        "SHA384" => NistObjectIdentifiers.IdSha384,
        "SHA512" => NistObjectIdentifiers.IdSha512,
        _ => throw new ArgumentException($"Unknown hash algorithm {algorithm}.", nameof(algorithm)),
    };

    private static bool TryHex(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 2 != 0 || !text.All(char.IsAsciiHexDigit)) return false;
        bytes = Convert.FromHexString(text);
        return true;
    }

    public override string ToString() => CacheKey;

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
