using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using PlugAndCharge.Exi;

namespace PlugAndCharge.Contracts.Signing;

/// <summary>
/// Ed448 (RFC 8032, empty context) for EXI signatures of the -20 Ed448 family, through BouncyCastle since .NET has no
/// Ed448; SignedInfo digests with SHA-512, as our CPS signer does for every -20 key.
/// </summary>
public static class Ed448ExiSignature
{
    public static IExiSignatureAlgorithm Verifier(Ed448PublicKeyParameters key) =>
        new DelegateExiSignatureAlgorithm(ExiSignatureMethods.Ed448, ExiDigestMethod.Sha512, null, (data, signature) => Verify(key, data, signature));

    public static IExiSignatureAlgorithm Signer(Ed448PrivateKeyParameters key) =>
        new DelegateExiSignatureAlgorithm(ExiSignatureMethods.Ed448, ExiDigestMethod.Sha512, data => Sign(key, data),
            (data, signature) => Verify(key.GeneratePublicKey(), data, signature));

    private static byte[] Sign(Ed448PrivateKeyParameters key, byte[] data)
    {
        var signer = new Ed448Signer([]);
        signer.Init(true, key);
        signer.BlockUpdate(data, 0, data.Length);
        return signer.GenerateSignature();
    }

    private static bool Verify(Ed448PublicKeyParameters key, byte[] data, byte[] signature)
    {
        var verifier = new Ed448Signer([]);
        verifier.Init(false, key);
        verifier.BlockUpdate(data, 0, data.Length);
        return verifier.VerifySignature(signature);
    }
}
