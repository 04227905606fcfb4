using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Issuance;

/// <summary>
/// PKCS#10 requests (RFC 2986) signed by a key wherever it lives: the sub-CA side of the offline-root ceremony, where
/// a new sub-CA key on an HSM or in a vault asks the offline root for its certificate.
/// </summary>
public static class CsrWriter
{
    public static async Task<byte[]> CreateAsync(ISigningKey key, string subject, CancellationToken ct = default)
    {
        var info = new CertificationRequestInfo(DistinguishedNames.Parse(subject), key.PublicKey, new DerSet());
        var signature = await key.SignAsync(info.GetEncoded(Asn1Encodable.Der), SignatureFormat.Der, ct);
        return new CertificationRequest(info, SignatureAlgorithms.IdentifierFor(key.Algorithm), new DerBitString(signature)).GetEncoded(Asn1Encodable.Der);
    }
}
