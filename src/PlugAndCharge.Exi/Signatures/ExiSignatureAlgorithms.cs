using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PlugAndCharge.Exi;

/// <summary>A digest method of xmldsig References (the hash of an element's EXI fragment).</summary>
public sealed class ExiDigestMethod
{
    private readonly HashAlgorithmName _hash;

    private ExiDigestMethod(string uri, HashAlgorithmName hash)
    {
        Uri = uri;
        _hash = hash;
    }

    /// <summary>SHA-256, what ISO 15118-2 and DIN 70121 use.</summary>
    public static ExiDigestMethod Sha256 { get; } = new("http://www.w3.org/2001/04/xmlenc#sha256", HashAlgorithmName.SHA256);

    /// <summary>SHA-512, what ISO 15118-20 uses.</summary>
    public static ExiDigestMethod Sha512 { get; } = new("http://www.w3.org/2001/04/xmlenc#sha512", HashAlgorithmName.SHA512);

    public string Uri { get; }

    public byte[] Compute(ReadOnlySpan<byte> data) =>
        _hash == HashAlgorithmName.SHA512 ? SHA512.HashData(data) : SHA256.HashData(data);

    public static ExiDigestMethod? FromUri(string uri) =>
        uri == Sha256.Uri ? Sha256 : uri == Sha512.Uri ? Sha512 : null;

    public override string ToString() => Uri;
}

/// <summary>
/// A signature algorithm of XML signatures over EXI: signs and verifies the EXI bytes of SignedInfo.
/// Implement it (or use <see cref="DelegateExiSignatureAlgorithm"/>) to plug in algorithms the BCL lacks, such as Ed448.
/// </summary>
public interface IExiSignatureAlgorithm
{
    /// <summary>The SignatureMethod Algorithm URI written into SignedInfo.</summary>
    string SignatureMethod { get; }

    /// <summary>The digest method used for References when signing.</summary>
    ExiDigestMethod DigestMethod { get; }

    bool CanSign { get; }

    /// <summary>Signs the EXI bytes of SignedInfo (the algorithm hashes them itself).</summary>
    byte[] Sign(ReadOnlySpan<byte> signedInfoExi);

    /// <summary>Verifies a signature over the EXI bytes of SignedInfo; false (never an exception) for a bad signature.</summary>
    bool Verify(ReadOnlySpan<byte> signedInfoExi, ReadOnlySpan<byte> signature);
}

/// <summary>Well-known SignatureMethod URIs.</summary>
public static class ExiSignatureMethods
{
    public const string EcdsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
    public const string EcdsaSha512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512";
    public const string Ed448 = "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed448";
    public const string CanonicalExi = "http://www.w3.org/TR/canonical-exi/";
}

/// <summary>
/// ECDSA with the curve's matching hash: P-256/SHA-256 (ISO 15118-2) or P-521/SHA-512 (ISO 15118-20).
/// Signatures are raw r‖s (IEEE P1363), 64 or 132 bytes, as the standards require (not DER).
/// </summary>
public sealed class EcdsaExiSignatureAlgorithm : IExiSignatureAlgorithm
{
    private readonly ECDsa _key;
    private readonly HashAlgorithmName _hash;

    public EcdsaExiSignatureAlgorithm(ECDsa key, bool canSign = true)
    {
        _key = key ?? throw new ArgumentNullException(nameof(key));
        CanSign = canSign;
        switch (key.KeySize)
        {
            case 256:
                _hash = HashAlgorithmName.SHA256;
                SignatureMethod = ExiSignatureMethods.EcdsaSha256;
                DigestMethod = ExiDigestMethod.Sha256;
                break;
            case 521:
                _hash = HashAlgorithmName.SHA512;
                SignatureMethod = ExiSignatureMethods.EcdsaSha512;
                DigestMethod = ExiDigestMethod.Sha512;
                break;
            default:
                throw new ArgumentException($"ECDSA key size {key.KeySize} is not used by ISO 15118 (P-256 or P-521 expected)", nameof(key));
        }
    }

    /// <summary>A verifier from a certificate's public key.</summary>
    public static EcdsaExiSignatureAlgorithm FromCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var key = certificate.GetECDsaPublicKey() ?? throw new ArgumentException("certificate has no ECDSA public key", nameof(certificate));
        return new EcdsaExiSignatureAlgorithm(key, canSign: false);
    }

    public string SignatureMethod { get; }
    public ExiDigestMethod DigestMethod { get; }
    public bool CanSign { get; }

    public byte[] Sign(ReadOnlySpan<byte> signedInfoExi)
    {
        if (!CanSign) throw new InvalidOperationException("this algorithm instance only verifies");
        return _key.SignData(signedInfoExi, _hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public bool Verify(ReadOnlySpan<byte> signedInfoExi, ReadOnlySpan<byte> signature)
    {
        try
        {
            return _key.VerifyData(signedInfoExi, signature, _hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}

/// <summary>An algorithm given as delegates, e.g. Ed448 from BouncyCastle in another project.</summary>
public sealed class DelegateExiSignatureAlgorithm : IExiSignatureAlgorithm
{
    private readonly Func<byte[], byte[]>? _sign;
    private readonly Func<byte[], byte[], bool> _verify;

    public DelegateExiSignatureAlgorithm(string signatureMethod, ExiDigestMethod digestMethod, Func<byte[], byte[]>? sign, Func<byte[], byte[], bool> verify)
    {
        SignatureMethod = signatureMethod ?? throw new ArgumentNullException(nameof(signatureMethod));
        DigestMethod = digestMethod ?? throw new ArgumentNullException(nameof(digestMethod));
        _sign = sign;
        _verify = verify ?? throw new ArgumentNullException(nameof(verify));
    }

    public string SignatureMethod { get; }
    public ExiDigestMethod DigestMethod { get; }
    public bool CanSign => _sign != null;

    public byte[] Sign(ReadOnlySpan<byte> signedInfoExi) =>
        (_sign ?? throw new InvalidOperationException("no signing delegate"))(signedInfoExi.ToArray());

    public bool Verify(ReadOnlySpan<byte> signedInfoExi, ReadOnlySpan<byte> signature) => _verify(signedInfoExi.ToArray(), signature.ToArray());
}
