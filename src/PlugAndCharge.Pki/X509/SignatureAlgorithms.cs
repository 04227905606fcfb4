using System.Collections.Concurrent;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Security;
using PlugAndCharge.Pki.Crypto;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.X509;

/// <summary>
/// ECDSA signature encodings: HSMs (CKM_ECDSA, PKCS#11 v2.40 §2.3.1) and vaults (JWS ES256/384/512, RFC 7518 §3.4)
/// return r‖s; X.509 and CMS want ECDSA-Sig-Value (RFC 3279 §2.2.3).
/// </summary>
public static class EcdsaSignatureEncoding
{
    public static byte[] RawToDer(ReadOnlySpan<byte> rawRs)
    {
        if (rawRs.Length == 0 || rawRs.Length % 2 != 0)
            throw new PkiException(PkiError.SignatureCheckFailed, $"An ECDSA r||s signature of {rawRs.Length} bytes is malformed.");
        var half = rawRs.Length / 2;
        var r = new Org.BouncyCastle.Math.BigInteger(1, rawRs[..half]);
        var s = new Org.BouncyCastle.Math.BigInteger(1, rawRs[half..]);
        return new DerSequence(new DerInteger(r), new DerInteger(s)).GetEncoded(Asn1Encodable.Der);
    }
}

/// <summary>
/// Signature algorithm identifiers and verification: ECDSA through OpenSSL (P-256 with SHA-256 through
/// <see cref="P256"/>, the rest through .NET), Ed448 through BouncyCastle.
/// </summary>
public static class SignatureAlgorithms
{
    public static AlgorithmIdentifier IdentifierFor(KeyAlgorithm signer) => signer switch
    {
        // RFC 5758 §3.2: ecdsa-with-SHA* AlgorithmIdentifiers have absent parameters.
        KeyAlgorithm.EcP256 => new AlgorithmIdentifier(X9ObjectIdentifiers.ECDsaWithSha256),
        KeyAlgorithm.EcP384 => new AlgorithmIdentifier(X9ObjectIdentifiers.ECDsaWithSha384),
        KeyAlgorithm.EcP521 => new AlgorithmIdentifier(X9ObjectIdentifiers.ECDsaWithSha512),
        // RFC 8410 §3: parameters absent.
        KeyAlgorithm.Ed448 => new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed448),
        _ => throw new PkiException(PkiError.KeyNotAllowed, $"{signer} keys cannot sign."),
    };

    public static string Name(AlgorithmIdentifier id)
    {
        var oid = id.Algorithm;
        if (oid.Equals(X9ObjectIdentifiers.ECDsaWithSha256)) return "ecdsa-with-SHA256";
        if (oid.Equals(X9ObjectIdentifiers.ECDsaWithSha384)) return "ecdsa-with-SHA384";
        if (oid.Equals(X9ObjectIdentifiers.ECDsaWithSha512)) return "ecdsa-with-SHA512";
        if (oid.Equals(EdECObjectIdentifiers.id_Ed448)) return "ed448";
        if (oid.Equals(EdECObjectIdentifiers.id_Ed25519)) return "ed25519";
        return oid.Id;
    }

    // Cleared, never disposed, when full: a verification may still hold a key; its handle's finalizer frees it.
    private static readonly ConcurrentDictionary<string, ECDsa> EcKeys = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, P256PublicKey> P256Keys = new(StringComparer.Ordinal);

    /// <summary>A key imported once per encoding; the cache starts over past 10,000 keys.</summary>
    private static T Cached<T>(ConcurrentDictionary<string, T> cache, string encoding, Func<SubjectPublicKeyInfo, T> import, SubjectPublicKeyInfo spki)
    {
        var key = cache.GetOrAdd(encoding, static (_, a) => a.import(a.spki), (import, spki));
        if (cache.Count > 10_000) cache.Clear();
        return key;
    }

    /// <summary>Verifies an X.509 signature made by the key in <paramref name="spki"/>. ECDSA public keys are cached by their encoding.</summary>
    public static bool Verify(SubjectPublicKeyInfo spki, AlgorithmIdentifier algorithm, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        var key = PublicKeys.Identify(spki);
        if (key.IsEc())
        {
            var hash = algorithm.Algorithm.Equals(X9ObjectIdentifiers.ECDsaWithSha256) ? HashAlgorithmName.SHA256
                : algorithm.Algorithm.Equals(X9ObjectIdentifiers.ECDsaWithSha384) ? HashAlgorithmName.SHA384
                : algorithm.Algorithm.Equals(X9ObjectIdentifiers.ECDsaWithSha512) ? HashAlgorithmName.SHA512
                : default;
            if (hash == default) return false;
            var cacheKey = Convert.ToBase64String(spki.GetEncoded(Asn1Encodable.Der));
            if (key == KeyAlgorithm.EcP256 && hash == HashAlgorithmName.SHA256)
            {
                // Every issued contract certificate is verified after signing: the common case, at a third of .NET's cost.
                var p256 = Cached(P256Keys, cacheKey, static s => P256.ImportPublicKey(s), spki);
                try { return p256.VerifySha256Der(SHA256.HashData(data), signature); }
                catch (CryptographicException) { return false; }
            }
            var ec = Cached(EcKeys, cacheKey, static s =>
            {
                var e = ECDsa.Create();
                e.ImportSubjectPublicKeyInfo(s.GetEncoded(Asn1Encodable.Der), out int _);
                return e;
            }, spki);
            try { return ec.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence); }
            catch (CryptographicException) { return false; }
        }
        if (key == KeyAlgorithm.Ed448 && algorithm.Algorithm.Equals(EdECObjectIdentifiers.id_Ed448))
        {
            var verifier = new Org.BouncyCastle.Crypto.Signers.Ed448Signer([]);
            verifier.Init(false, PublicKeyFactory.CreateKey(spki));
            verifier.BlockUpdate(data);
            return verifier.VerifySignature(signature.ToArray());
        }
        return false;
    }
}

/// <summary>Recognizes the key algorithms the profiles name.</summary>
public static class PublicKeys
{
    public static KeyAlgorithm Identify(SubjectPublicKeyInfo spki)
    {
        var alg = spki.Algorithm.Algorithm;
        if (alg.Equals(X9ObjectIdentifiers.IdECPublicKey))
        {
            // RFC 5480 §2.1.1: only namedCurve; explicit parameters are refused.
            if (spki.Algorithm.Parameters is not DerObjectIdentifier curve)
                throw new PkiException(PkiError.KeyNotAllowed, "EC keys must name their curve (RFC 5480 namedCurve).");
            if (curve.Equals(Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP256r1)) return KeyAlgorithm.EcP256;
            if (curve.Equals(Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP384r1)) return KeyAlgorithm.EcP384;
            if (curve.Equals(Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP521r1)) return KeyAlgorithm.EcP521;
            throw new PkiException(PkiError.KeyNotAllowed, $"EC curve {curve.Id} is not supported (secp256r1, secp384r1, secp521r1).");
        }
        if (alg.Equals(EdECObjectIdentifiers.id_Ed448)) return KeyAlgorithm.Ed448;
        if (alg.Equals(EdECObjectIdentifiers.id_X448)) return KeyAlgorithm.X448;
        throw new PkiException(PkiError.KeyNotAllowed, $"Key algorithm {alg.Id} is not supported (EC P-256/P-384/P-521, Ed448, X448).");
    }

    /// <summary>RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value.</summary>
    public static byte[] KeyIdentifier(SubjectPublicKeyInfo spki) => SHA1.HashData(spki.PublicKey.GetBytes());
}
