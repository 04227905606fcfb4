using System.Collections.Concurrent;
using System.Security.Cryptography;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Contracts.Pools;

/// <summary>
/// Certificates parsed once per DER: sub-CAs come back from the store as bytes on every request, and the chain
/// validator caches verified links per certificate object, so handing it the same object matters for speed. A request's
/// own certificate, which does not recur, is not cached (Installation.PresentedKey).
/// </summary>
public sealed class ParsedCertificates(int capacity = 4096)
{
    private readonly ConcurrentDictionary<string, X509Certificate> _byHash = new(StringComparer.Ordinal);

    public X509Certificate Get(byte[] der, string what)
    {
        var key = Convert.ToBase64String(SHA256.HashData(der));
        if (_byHash.TryGetValue(key, out var c)) return c;
        c = CertificateFacts.Read(der, what);
        // Crude bound: a full cache starts over rather than grow without limit.
        if (_byHash.Count >= capacity) _byHash.Clear();
        _byHash[key] = c;
        return c;
    }

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<X509Certificate, System.Security.Cryptography.ECDsa> _verifiers = new();

    /// <summary>
    /// A verifier of EXI signatures made with the certificate's key: ECDSA (P-256, P-521) through
    /// <see cref="VerificationKey"/>, or Ed448. Throws CryptographicException for other keys.
    /// </summary>
    public PlugAndCharge.Exi.IExiSignatureAlgorithm ExiVerifier(X509Certificate certificate) => ExiVerifier(certificate, () => VerificationKey(certificate));

    /// <summary>The one choice of EXI signature verifier for a certificate's key, with the EC key from <paramref name="ecdsa"/>.</summary>
    public static PlugAndCharge.Exi.IExiSignatureAlgorithm ExiVerifier(X509Certificate certificate, Func<System.Security.Cryptography.ECDsa> ecdsa) =>
        CertificateFacts.KeyAlgorithmOf(certificate) == Pki.Keys.KeyAlgorithm.Ed448
            ? Signing.Ed448ExiSignature.Verifier(certificate.SubjectPublicKeyInfo)
            : new PlugAndCharge.Exi.EcdsaExiSignatureAlgorithm(ecdsa(), canSign: false);

    /// <summary>The certificate's ECDSA public key for verification, imported once per parsed certificate.</summary>
    public System.Security.Cryptography.ECDsa VerificationKey(X509Certificate certificate) =>
        _verifiers.GetValue(certificate, c =>
        {
            var k = System.Security.Cryptography.ECDsa.Create();
            k.ImportSubjectPublicKeyInfo(c.SubjectPublicKeyInfo.GetEncoded(), out _);
            return k;
        });
}
