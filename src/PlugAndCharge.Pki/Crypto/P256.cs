using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;

namespace PlugAndCharge.Pki.Crypto;

/// <summary>
/// The P-256 (secp256r1) operations of one ISO 15118-2 installation that do not use a long-lived key: a new key pair
/// (the contract key), a vehicle's public key taken from its certificate, the verification of its request signature,
/// and ECDH with a fresh ephemeral key (the contract key's encryption); also X.509 verification of P-256/SHA-256
/// signatures (SignatureAlgorithms). On Linux they call OpenSSL's libcrypto directly (<see cref="LibCryptoEc"/>), because
/// System.Security.Cryptography builds a new curve group and checks n·Q for every key object (docs/performance.md has
/// the numbers). Elsewhere, or with PNC_CRYPTO_NATIVE=0, they use System.Security.Cryptography; both give the same
/// results (P256Tests).
/// </summary>
public static class P256
{
    public const int ScalarLength = 32;

    /// <summary>An uncompressed point: 04 ‖ X ‖ Y.</summary>
    public const int PointLength = 65;

    /// <summary>True when the operations run on libcrypto directly.</summary>
    public static bool Native => LibCryptoEc.Available;

    /// <summary>A new key pair from OpenSSL's random generator: the private scalar (big-endian; the caller zeroes it) and the public point.</summary>
    public static (byte[] Scalar, byte[] Point) GenerateKeyPair() => GenerateKeyPair(Native);

    /// <summary>
    /// A public key, validated: an uncompressed point on the curve (for P-256, whose cofactor is 1, that is the full
    /// public key validation of SP 800-56A §5.6.2.3). CryptographicException otherwise.
    /// </summary>
    public static P256PublicKey ImportPublicKey(ReadOnlySpan<byte> point) => ImportPublicKey(point, Native);

    /// <summary>The key of a SubjectPublicKeyInfo, which must be id-ecPublicKey on the named curve secp256r1.</summary>
    public static P256PublicKey ImportPublicKey(SubjectPublicKeyInfo spki)
    {
        if (!spki.Algorithm.Algorithm.Equals(X9ObjectIdentifiers.IdECPublicKey) || spki.Algorithm.Parameters is not DerObjectIdentifier curve
            || !curve.Equals(SecObjectIdentifiers.SecP256r1))
            throw new CryptographicException("The key is not an EC key on the named curve P-256.");
        if (spki.PublicKey.PadBits != 0) throw new CryptographicException("The EC public key's BIT STRING is not whole octets.");
        return ImportPublicKey(spki.PublicKey.GetOctets());
    }

    /// <summary>The SubjectPublicKeyInfo of a point (RFC 5480: id-ecPublicKey, namedCurve secp256r1).</summary>
    public static SubjectPublicKeyInfo SubjectPublicKeyInfo(byte[] point) =>
        new(new AlgorithmIdentifier(X9ObjectIdentifiers.IdECPublicKey, SecObjectIdentifiers.SecP256r1), point);

    internal static unsafe (byte[] Scalar, byte[] Point) GenerateKeyPair(bool native)
    {
        var scalar = new byte[ScalarLength];
        var point = new byte[PointLength];
        if (!native)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var p = key.ExportParameters(true);
            p.D!.CopyTo(scalar, 0);
            CryptographicOperations.ZeroMemory(p.D);
            WritePoint(p.Q, point);
            return (scalar, point);
        }
        using var handle = LibCryptoEc.GenerateKey(point);
        fixed (byte* s = scalar)
        {
            // priv2oct pads the scalar to the order's length, so a small scalar still fills 32 bytes.
            if (LibCryptoEc.EC_KEY_priv2oct(handle.DangerousGetHandle(), s, ScalarLength) != ScalarLength) throw LibCryptoEc.Failure("EC_KEY_priv2oct");
        }
        return (scalar, point);
    }

    internal static unsafe P256PublicKey ImportPublicKey(ReadOnlySpan<byte> point, bool native)
    {
        // Only the uncompressed form, as .NET accepts and ISO 15118-2 certificates carry.
        if (point.Length != PointLength || point[0] != 0x04) throw new CryptographicException("A P-256 public key is an uncompressed point of 65 bytes.");
        if (!native)
        {
            // On Linux the OpenSSL type, whose key handle the ECDH side can share instead of importing the point again.
            var ecdsa = OperatingSystem.IsLinux() ? new ECDsaOpenSsl() : ECDsa.Create();
            try { ecdsa.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = point[1..33].ToArray(), Y = point[33..].ToArray() } }); }
            catch { ecdsa.Dispose(); throw; }
            return new P256PublicKey(point.ToArray(), null, ecdsa);
        }
        var handle = LibCryptoEc.NewKey();
        fixed (byte* p = point)
        {
            // EC_POINT_oct2point refuses a point off the curve; a 65-byte 04 form is never the point at infinity.
            if (LibCryptoEc.EC_KEY_oct2key(handle.DangerousGetHandle(), p, PointLength, IntPtr.Zero) != 1)
            {
                handle.Dispose();
                throw LibCryptoEc.Failure("EC_KEY_oct2key (the point is not on P-256)");
            }
        }
        return new P256PublicKey(point.ToArray(), handle, null);
    }

    internal static void WritePoint(ECPoint q, Span<byte> point)
    {
        point[0] = 0x04;
        q.X.AsSpan().CopyTo(point[1..]);
        q.Y.AsSpan().CopyTo(point[33..]);
    }
}

/// <summary>
/// A validated P-256 public key: ECDSA verification (safe to call concurrently: it only reads the key) and ECDH with
/// fresh ephemeral keys (one caller at a time).
/// </summary>
public sealed class P256PublicKey : IDisposable
{
    private readonly EcKeyHandle? _native;
    private readonly ECDsa? _managed;
    private ECDiffieHellman? _managedAgreement;

    internal P256PublicKey(byte[] point, EcKeyHandle? native, ECDsa? managed)
    {
        Point = point;
        _native = native;
        _managed = managed;
    }

    /// <summary>04 ‖ X ‖ Y.</summary>
    public byte[] Point { get; }

    /// <summary>Verifies an ECDSA signature, r ‖ s (IEEE P1363, 64 bytes), over a SHA-256 digest; false for any bad signature.</summary>
    public bool VerifySha256(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature) =>
        signature.Length == 64 && VerifySha256Der(digest, X509.EcdsaSignatureEncoding.RawToDer(signature));

    /// <summary>Verifies an X.509 ECDSA-Sig-Value (RFC 3279 §2.2.3, strict DER) over a SHA-256 digest; false for any bad signature.</summary>
    public unsafe bool VerifySha256Der(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        if (digest.Length != 32 || signature.IsEmpty) return false;
        if (_managed != null) return _managed.VerifyHash(digest, signature, DSASignatureFormat.Rfc3279DerSequence);
        fixed (byte* d = digest)
        fixed (byte* sig = signature)
        {
            // ECDSA_verify refuses an encoding that is not the DER one; 1 valid, 0 invalid, -1 malformed.
            var ok = LibCryptoEc.ECDSA_verify(0, d, 32, sig, signature.Length, _native!.DangerousGetHandle());
            if (ok != 1) LibCryptoEc.ERR_clear_error();
            return ok == 1;
        }
    }

    /// <summary>
    /// ECDH with a fresh ephemeral key pair U: returns Z, the x-coordinate of U·Q (32 bytes; the caller zeroes it), and
    /// U's public point. U's private scalar never leaves OpenSSL and is cleared when its key is freed.
    /// </summary>
    public unsafe (byte[] SharedSecret, byte[] EphemeralPoint) AgreeWithEphemeral()
    {
        var z = new byte[32];
        var point = new byte[P256.PointLength];
        if (_managed != null)
        {
            _managedAgreement ??= ManagedAgreement(_managed);
            using var u = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            using var peer = _managedAgreement.PublicKey;
            u.DeriveRawSecretAgreement(peer).CopyTo(z, 0);
            P256.WritePoint(u.ExportParameters(false).Q, point);
            return (z, point);
        }
        using var ephemeral = LibCryptoEc.GenerateKey(point);
        fixed (byte* zp = z)
        {
            // Without a KDF, ECDH_compute_key writes the x-coordinate padded to the field size.
            if (LibCryptoEc.ECDH_compute_key(zp, 32, LibCryptoEc.EC_KEY_get0_public_key(_native!.DangerousGetHandle()), ephemeral.DangerousGetHandle(), IntPtr.Zero) != 32)
                throw LibCryptoEc.Failure("ECDH_compute_key");
        }
        return (z, point);
    }

    private static ECDiffieHellman ManagedAgreement(ECDsa key)
    {
        if (!OperatingSystem.IsLinux() || key is not ECDsaOpenSsl openSsl) return ECDiffieHellman.Create(key.ExportParameters(false));
        using var handle = openSsl.DuplicateKeyHandle();
        return new ECDiffieHellmanOpenSsl(handle);
    }

    public void Dispose()
    {
        _native?.Dispose();
        _managed?.Dispose();
        _managedAgreement?.Dispose();
    }
}
