using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Public keys the validator accepts anywhere in a path: EC on a named NIST curve (P-256, P-384, P-521), RSA of at least
/// 2048 bits in whole bytes, Ed25519, Ed448. Explicit curve parameters, P-192, DSA and short RSA keys are refused, as webpki
/// does; a key too weak to trust a signature from is too weak to certify.
/// </summary>
internal static class KeyPolicy
{
    public const string OidEcPublicKey = "1.2.840.10045.2.1";
    public const string OidRsaEncryption = "1.2.840.113549.1.1.1";
    public const string OidRsaPss = "1.2.840.113549.1.1.10";
    public const string OidEd25519 = "1.3.101.112";
    public const string OidEd448 = "1.3.101.113";
    public const string OidP256 = "1.2.840.10045.3.1.7";
    public const string OidP384 = "1.3.132.0.34";
    public const string OidP521 = "1.3.132.0.35";

    /// <summary>Returns why the key is refused, or null.</summary>
    public static string? Check(SubjectPublicKeyInfo key)
    {
        var algorithm = key.Algorithm.Algorithm.Id;
        switch (algorithm)
        {
            case OidEcPublicKey:
                var curve = NamedCurve(key);
                return curve switch
                {
                    null => "EC key with explicit or missing curve parameters",
                    OidP256 or OidP384 or OidP521 => null,
                    _ => "EC key on curve " + curve + " is not allowed",
                };
            case OidRsaEncryption:
            case OidRsaPss:
                var rsa = RsaPublicKeyStructure.GetInstance(key.ParsePublicKey());
                var bits = rsa?.Modulus?.BitLength ?? 0;
                if (bits < 2048 || bits % 8 != 0)
                {
                    return "RSA key of " + bits + " bits is not allowed (at least 2048, a multiple of 8)";
                }

                return null;
            case OidEd25519:
            case OidEd448:
                return null;
            default:
                return "public key algorithm " + algorithm + " is not allowed";
        }
    }

    /// <summary>The named-curve OID of an EC key, or null when the parameters are not a named curve (RFC 5480 §2.1.1).</summary>
    public static string? NamedCurve(SubjectPublicKeyInfo key) =>
        key.Algorithm.Parameters is DerObjectIdentifier curve ? curve.Id : null;
}
