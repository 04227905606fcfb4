using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using PlugAndCharge.Exi;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Contracts.Signing;

/// <summary>
/// Ed448 (RFC 8032, empty context) for EXI signatures of the -20 Ed448 family, since .NET has no Ed448; SignedInfo
/// digests with SHA-512, as our CPS signer does for every -20 key. Verification is the PKI's X.509 signature check.
/// </summary>
public static class Ed448ExiSignature
{
    private static readonly AlgorithmIdentifier Ed448 = new(EdECObjectIdentifiers.id_Ed448);

    /// <summary>A verifier for the key; decoding it first refuses a key off the curve here (ArgumentException).</summary>
    public static IExiSignatureAlgorithm Verifier(SubjectPublicKeyInfo key)
    {
        _ = new Ed448PublicKeyParameters(key.PublicKey.GetOctets());
        return new DelegateExiSignatureAlgorithm(ExiSignatureMethods.Ed448, ExiDigestMethod.Sha512, null, (data, signature) => SignatureAlgorithms.Verify(key, Ed448, data, signature));
    }

    /// <summary>For a signer that holds its Ed448 key itself (the simulated vehicle).</summary>
    public static IExiSignatureAlgorithm Signer(Ed448PrivateKeyParameters key)
    {
        var spki = Org.BouncyCastle.X509.SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(key.GeneratePublicKey());
        return new DelegateExiSignatureAlgorithm(ExiSignatureMethods.Ed448, ExiDigestMethod.Sha512, data =>
        {
            var signer = new Ed448Signer([]);
            signer.Init(true, key);
            signer.BlockUpdate(data, 0, data.Length);
            return signer.GenerateSignature();
        }, (data, signature) => SignatureAlgorithms.Verify(spki, Ed448, data, signature));
    }
}
