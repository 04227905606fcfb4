using System.Security.Cryptography;
using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Exi;
using PlugAndCharge.Pki.Crypto;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Contracts.Installation;

/// <summary>
/// The public key of the certificate a request presents (the vehicle's provisioning certificate, or its installed
/// contract certificate in an update), imported once for the request's signature check and its key agreement, and
/// released with the request. Not cached on purpose: a car installs a contract once, so a cache would only keep every
/// key until eviction and turn it into long-lived garbage. The sub-CAs, which recur, are cached in ParsedCertificates.
/// A P-256 key (every ISO 15118-2 request) is a <see cref="P256PublicKey"/>, imported once for both uses.
/// </summary>
internal sealed class PresentedKey(X509Certificate certificate) : IDisposable
{
    private P256PublicKey? _p256;
    private ECDsa? _ecdsa;
    private ECDiffieHellman? _ecdh;
    private ECDiffieHellmanPublicKey? _agreement;

    public X509Certificate Certificate { get; } = certificate;

    /// <summary>
    /// A verifier of the request's EXI signature: ECDSA (P-256, P-521) or Ed448; CryptographicException for other keys,
    /// ContractException for a key no profile allows.
    /// </summary>
    public IExiSignatureAlgorithm Verifier()
    {
        if (CertificateFacts.KeyAlgorithmOf(Certificate) != KeyAlgorithm.EcP256) return ParsedCertificates.ExiVerifier(Certificate, Ecdsa);
        var key = P256();
        return new DelegateExiSignatureAlgorithm(ExiSignatureMethods.EcdsaSha256, ExiDigestMethod.Sha256, null, (data, signature) => key.VerifySha256(SHA256.HashData(data), signature));
    }

    /// <summary>The P-256 key, the ECDH peer of an ISO 15118-2 response; CryptographicException for any other key.</summary>
    public P256PublicKey P256() => _p256 ??= Pki.Crypto.P256.ImportPublicKey(Certificate.SubjectPublicKeyInfo);

    /// <summary>
    /// The EC key as the ECDH peer of an ISO 15118-20 response (P-521). On OpenSSL it shares the key already imported
    /// for the signature check: an import validates the point again, a shared handle costs a reference count.
    /// </summary>
    public ECDiffieHellmanPublicKey Agreement()
    {
        if (_agreement != null) return _agreement;
        if (OperatingSystem.IsLinux() && Ecdsa() is ECDsaOpenSsl openSsl)
        {
            using var handle = openSsl.DuplicateKeyHandle();
            _ecdh = new ECDiffieHellmanOpenSsl(handle);
        }
        else
        {
            _ecdh = ECDiffieHellman.Create();
            _ecdh.ImportSubjectPublicKeyInfo(Certificate.SubjectPublicKeyInfo.GetEncoded(), out _);
        }
        return _agreement = _ecdh.PublicKey;
    }

    private ECDsa Ecdsa()
    {
        if (_ecdsa != null) return _ecdsa;
        var key = OperatingSystem.IsLinux() ? new ECDsaOpenSsl() : ECDsa.Create();
        try { key.ImportSubjectPublicKeyInfo(Certificate.SubjectPublicKeyInfo.GetEncoded(), out _); }
        catch { key.Dispose(); throw; }
        return _ecdsa = key;
    }

    public void Dispose()
    {
        _p256?.Dispose();
        _agreement?.Dispose();
        _ecdh?.Dispose();
        _ecdsa?.Dispose();
    }
}
