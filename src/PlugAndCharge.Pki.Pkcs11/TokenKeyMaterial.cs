using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.Pkcs11;

/// <summary>Translates between the token's CKA_EC_PARAMS / CKA_EC_POINT and X.509 SubjectPublicKeyInfo.</summary>
internal static class TokenKeyMaterial
{
    /// <summary>CKA_EC_PARAMS for generation: the DER namedCurve OID (PKCS#11 v2.40 §2.3.3; v3.0 §2.3.5 for Edwards curves).</summary>
    public static byte[] EcParams(KeyAlgorithm algorithm) => CurveOid(algorithm).GetEncoded(Asn1Encodable.Der);

    private static DerObjectIdentifier CurveOid(KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.EcP256 => SecObjectIdentifiers.SecP256r1,
        KeyAlgorithm.EcP384 => SecObjectIdentifiers.SecP384r1,
        KeyAlgorithm.EcP521 => SecObjectIdentifiers.SecP521r1,
        KeyAlgorithm.Ed448 => EdECObjectIdentifiers.id_Ed448,
        _ => throw new PkiException(PkiError.KeyNotAllowed, $"{algorithm} keys are not generated on PKCS#11 tokens."),
    };

    public static KeyAlgorithm AlgorithmOf(byte[] ecParams)
    {
        Asn1Object parsed;
        try { parsed = Asn1Object.FromByteArray(ecParams); }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
        { throw new PkiException(PkiError.KeyNotAllowed, "The token key has unreadable CKA_EC_PARAMS.", e); }
        // PKCS#11 v3.0 §2.3.5: Edwards curves may also be named by a PrintableString.
        if (parsed is DerPrintableString ps && ps.GetString() == "edwards448") return KeyAlgorithm.Ed448;
        if (parsed is not DerObjectIdentifier oid)
            throw new PkiException(PkiError.KeyNotAllowed, "The token key's curve is not a named curve (RFC 5480 namedCurve only).");
        if (oid.Equals(SecObjectIdentifiers.SecP256r1)) return KeyAlgorithm.EcP256;
        if (oid.Equals(SecObjectIdentifiers.SecP384r1)) return KeyAlgorithm.EcP384;
        if (oid.Equals(SecObjectIdentifiers.SecP521r1)) return KeyAlgorithm.EcP521;
        if (oid.Equals(EdECObjectIdentifiers.id_Ed448)) return KeyAlgorithm.Ed448;
        throw new PkiException(PkiError.KeyNotAllowed, $"The token key's curve {oid.Id} is not supported (P-256, P-384, P-521, Ed448).");
    }

    /// <summary>
    /// CKA_EC_POINT is a DER OCTET STRING around the point (v2.40 §2.3.3); some modules return the bare point, which
    /// is told apart by its exact length.
    /// </summary>
    public static SubjectPublicKeyInfo PublicKey(KeyAlgorithm algorithm, byte[] ecPoint)
    {
        var rawLength = algorithm switch
        {
            KeyAlgorithm.EcP256 => 65, KeyAlgorithm.EcP384 => 97, KeyAlgorithm.EcP521 => 133, KeyAlgorithm.Ed448 => 57,
            _ => throw new PkiException(PkiError.KeyNotAllowed, $"{algorithm} is not supported on PKCS#11 tokens."),
        };
        byte[] point;
        if (ecPoint.Length == rawLength) point = ecPoint;
        else
        {
            try { point = Asn1OctetString.GetInstance(Asn1Object.FromByteArray(ecPoint)).GetOctets(); }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
            { throw new PkiException(PkiError.KeyNotAllowed, "The token key has an unreadable CKA_EC_POINT.", e); }
            if (point.Length != rawLength) throw new PkiException(PkiError.KeyNotAllowed, $"The token's {algorithm} point has {point.Length} bytes, not {rawLength}.");
        }
        var spki = algorithm == KeyAlgorithm.Ed448
            ? new SubjectPublicKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed448), point)
            : new SubjectPublicKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.IdECPublicKey, CurveOid(algorithm)), point);
        if (algorithm.IsEc())
        {
            // Import once so a point off the curve is refused here rather than in every certificate.
            using var check = ECDsa.Create();
            try { check.ImportSubjectPublicKeyInfo(spki.GetEncoded(Asn1Encodable.Der), out _); }
            catch (CryptographicException e) { throw new PkiException(PkiError.KeyNotAllowed, "The token's EC point is not on its curve.", e); }
        }
        return spki;
    }
}
