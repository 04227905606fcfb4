using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Verifies signatures made by a certificate's key. ECDSA and RSA go through .NET (OpenSSL underneath, about three times
/// faster than BouncyCastle for ECDSA); Ed25519 and Ed448, which .NET lacks, through BouncyCastle. Imported keys are cached
/// per issuer certificate, and verified CA-to-CA links per (issuer, subject) pair, so a warm validation of an ISO 15118
/// chain costs one ECDSA verification: the leaf's.
/// </summary>
internal sealed class SignatureVerifier
{
    private const string OidEcdsaSha256 = "1.2.840.10045.4.3.2";
    private const string OidEcdsaSha384 = "1.2.840.10045.4.3.3";
    private const string OidEcdsaSha512 = "1.2.840.10045.4.3.4";
    private const string OidRsaSha256 = "1.2.840.113549.1.1.11";
    private const string OidRsaSha384 = "1.2.840.113549.1.1.12";
    private const string OidRsaSha512 = "1.2.840.113549.1.1.13";
    private const string OidMgf1 = "1.2.840.113549.1.1.8";
    private const string OidSha256 = "2.16.840.1.101.3.4.2.1";
    private const string OidSha384 = "2.16.840.1.101.3.4.2.2";
    private const string OidSha512 = "2.16.840.1.101.3.4.2.3";

    private readonly BoundedCache<CertificateFingerprint, object> _keys;
    private readonly BoundedCache<(CertificateFingerprint Issuer, CertificateFingerprint Subject), bool> _links;

    public SignatureVerifier(int keyCapacity, int linkCapacity)
    {
        _keys = new BoundedCache<CertificateFingerprint, object>(keyCapacity);
        _links = new BoundedCache<(CertificateFingerprint, CertificateFingerprint), bool>(linkCapacity);
    }

    /// <summary>Checks that <paramref name="issuer"/> signed <paramref name="subject"/>, over its original tbsCertificate bytes.</summary>
    public SignatureCheck VerifyCertificate(CertificateView issuer, CertificateView subject, out string detail)
    {
        // Only CA certificates are remembered: they recur across validations, leaves rarely do.
        var key = (issuer.Fingerprint, subject.Fingerprint);
        if (subject.IsCa && _links.TryGet(key, out _))
        {
            detail = string.Empty;
            return SignatureCheck.Valid;
        }

        var result = Verify(issuer, subject.Tbs, subject.SignatureAlgorithm, subject.SignatureValue, out detail);
        if (result == SignatureCheck.Valid && subject.IsCa)
        {
            _links.Add(key, true);
        }

        return result;
    }

    public SignatureCheck Verify(CertificateView signer, ReadOnlySpan<byte> data, AlgorithmIdentifier algorithm, byte[] signature, out string detail)
    {
        detail = string.Empty;
        var keyAlgorithm = signer.PublicKeyInfo.Algorithm.Algorithm.Id;
        switch (algorithm.Algorithm.Id)
        {
            case OidEcdsaSha256:
                return VerifyEcdsa(signer, keyAlgorithm, algorithm, data, signature, HashAlgorithmName.SHA256, out detail);
            case OidEcdsaSha384:
                return VerifyEcdsa(signer, keyAlgorithm, algorithm, data, signature, HashAlgorithmName.SHA384, out detail);
            case OidEcdsaSha512:
                return VerifyEcdsa(signer, keyAlgorithm, algorithm, data, signature, HashAlgorithmName.SHA512, out detail);
            case OidRsaSha256:
                return VerifyRsa(signer, keyAlgorithm, data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, out detail);
            case OidRsaSha384:
                return VerifyRsa(signer, keyAlgorithm, data, signature, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1, out detail);
            case OidRsaSha512:
                return VerifyRsa(signer, keyAlgorithm, data, signature, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1, out detail);
            case KeyPolicy.OidRsaPss:
                var hash = PssHash(algorithm.Parameters);
                if (hash is null)
                {
                    detail = "RSASSA-PSS parameters other than SHA-2 with MGF1 of the same hash and a salt of the hash length";
                    return SignatureCheck.Unsupported;
                }

                return VerifyRsa(signer, keyAlgorithm, data, signature, hash.Value, RSASignaturePadding.Pss, out detail);
            case KeyPolicy.OidEd25519:
            case KeyPolicy.OidEd448:
                return VerifyEdwards(signer, keyAlgorithm, algorithm.Algorithm.Id, data, signature, out detail);
            default:
                // SHA-1 and MD5 signatures are refused along with everything unknown.
                detail = "signature algorithm " + algorithm.Algorithm.Id + " is not supported";
                return SignatureCheck.Unsupported;
        }
    }

    private SignatureCheck VerifyEcdsa(
        CertificateView signer, string keyAlgorithm, AlgorithmIdentifier algorithm, ReadOnlySpan<byte> data, byte[] signature, HashAlgorithmName hash, out string detail)
    {
        // RFC 5758 §3.2 says the parameters are absent; an explicit NULL is a harmless quirk and tolerated.
        if (keyAlgorithm != KeyPolicy.OidEcPublicKey || (algorithm.Parameters is not null && algorithm.Parameters is not DerNull))
        {
            detail = "ECDSA signature does not fit the issuer key or carries parameters";
            return SignatureCheck.Invalid;
        }

        if (Key(signer) is not ECDsa key)
        {
            detail = "issuer EC key cannot be imported";
            return SignatureCheck.Invalid;
        }

        try
        {
            return Result(key.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence), out detail);
        }
        catch (CryptographicException e)
        {
            detail = e.Message;
            return SignatureCheck.Invalid;
        }
    }

    private SignatureCheck VerifyRsa(
        CertificateView signer, string keyAlgorithm, ReadOnlySpan<byte> data, byte[] signature, HashAlgorithmName hash, RSASignaturePadding padding, out string detail)
    {
        if (keyAlgorithm is not (KeyPolicy.OidRsaEncryption or KeyPolicy.OidRsaPss) || Key(signer) is not RSA key)
        {
            detail = "RSA signature does not fit the issuer key";
            return SignatureCheck.Invalid;
        }

        try
        {
            return Result(key.VerifyData(data, signature, hash, padding), out detail);
        }
        catch (CryptographicException e)
        {
            detail = e.Message;
            return SignatureCheck.Invalid;
        }
    }

    private SignatureCheck VerifyEdwards(CertificateView signer, string keyAlgorithm, string signatureAlgorithm, ReadOnlySpan<byte> data, byte[] signature, out string detail)
    {
        if (keyAlgorithm != signatureAlgorithm || Key(signer) is not AsymmetricKeyParameter key)
        {
            detail = "EdDSA signature does not fit the issuer key";
            return SignatureCheck.Invalid;
        }

        ISigner verifier = signatureAlgorithm == KeyPolicy.OidEd25519 ? new Ed25519Signer() : new Ed448Signer([]);
        verifier.Init(false, key);
        verifier.BlockUpdate(data);
        return Result(verifier.VerifySignature(signature), out detail);
    }

    private static SignatureCheck Result(bool valid, out string detail)
    {
        detail = valid ? string.Empty : "signature does not verify";
        return valid ? SignatureCheck.Valid : SignatureCheck.Invalid;
    }

    /// <summary>The signer's key, imported once; a string stands for a key that cannot be imported.</summary>
    private object Key(CertificateView signer)
    {
        if (_keys.TryGet(signer.Fingerprint, out var cached))
        {
            return cached;
        }

        object key;
        try
        {
            key = signer.PublicKeyInfo.Algorithm.Algorithm.Id switch
            {
                KeyPolicy.OidEcPublicKey => ImportEc(signer.PublicKeyInfoDer),
                KeyPolicy.OidRsaEncryption or KeyPolicy.OidRsaPss => ImportRsa(signer.PublicKeyInfo),
                _ => PublicKeyFactory.CreateKey(signer.PublicKeyInfo),
            };
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or InvalidOperationException or IOException or InvalidCastException)
        {
            key = "unusable key: " + e.Message;
        }

        _keys.Add(signer.Fingerprint, key);
        return key;
    }

    private static ECDsa ImportEc(byte[] subjectPublicKeyInfo)
    {
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        return key;
    }

    private static RSA ImportRsa(SubjectPublicKeyInfo info)
    {
        // Imported from the modulus and exponent so that keys labelled id-RSASSA-PSS load too.
        var structure = RsaPublicKeyStructure.GetInstance(info.ParsePublicKey());
        var key = RSA.Create();
        key.ImportParameters(new RSAParameters
        {
            Modulus = structure.Modulus.ToByteArrayUnsigned(),
            Exponent = structure.PublicExponent.ToByteArrayUnsigned(),
        });
        return key;
    }

    /// <summary>The hash of RSASSA-PSS parameters .NET can verify: SHA-2, MGF1 with the same hash, salt = hash length (RFC 4055 §3.1).</summary>
    private static HashAlgorithmName? PssHash(Asn1Encodable? parameters)
    {
        if (parameters is null)
        {
            return null;
        }

        var pss = RsassaPssParameters.GetInstance(parameters);
        var (name, length) = pss.HashAlgorithm.Algorithm.Id switch
        {
            OidSha256 => (HashAlgorithmName.SHA256, 32),
            OidSha384 => (HashAlgorithmName.SHA384, 48),
            OidSha512 => (HashAlgorithmName.SHA512, 64),
            _ => (default(HashAlgorithmName), 0),
        };
        if (length == 0 || pss.MaskGenAlgorithm.Algorithm.Id != OidMgf1 ||
            AlgorithmIdentifier.GetInstance(pss.MaskGenAlgorithm.Parameters).Algorithm.Id != pss.HashAlgorithm.Algorithm.Id ||
            pss.SaltLength.Value.IntValue != length || pss.TrailerField.Value.IntValue != 1)
        {
            return null;
        }

        return name;
    }
}
