using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Pki.Crypto;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Crypto;

/// <summary>
/// Both implementations of <see cref="P256"/> (libcrypto directly, and System.Security.Cryptography) against .NET's
/// own ECDSA and ECDH: the fast path must give the results the rest of the code and the vehicles expect.
/// </summary>
public sealed class P256Tests : IDisposable
{
    private readonly ECDsa _signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose() => _signer.Dispose();

    public static TheoryData<bool> Implementations()
    {
        var data = new TheoryData<bool> { false };
        if (P256.Native) data.Add(true);
        return data;
    }

    [Fact]
    public void On_linux_the_operations_call_libcrypto_directly()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("PNC_CRYPTO_NATIVE") == "0") return;
        Assert.True(P256.Native, "libcrypto.so.3 or one of its EC_KEY functions was not found: installations take the slow path.");
    }

    [Theory, MemberData(nameof(Implementations))]
    public void A_generated_key_pair_is_a_valid_pair_that_dotnet_signs_with(bool native)
    {
        var (scalar, point) = P256.GenerateKeyPair(native);
        Assert.Equal(32, scalar.Length);
        Assert.Equal(65, point.Length);
        Assert.Equal(0x04, point[0]);
        // ImportParameters with D and Q checks that Q = d·G.
        using var dotnet = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256, D = scalar, Q = new ECPoint { X = point[1..33], Y = point[33..] },
        });
        var digest = SHA256.HashData("signed by the generated key"u8);
        using var key = P256.ImportPublicKey(point, native);
        Assert.True(key.VerifySha256(digest, dotnet.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));
        Assert.NotEqual(scalar, P256.GenerateKeyPair(native).Scalar);
    }

    [Theory, MemberData(nameof(Implementations))]
    public void Verification_accepts_a_good_signature_and_refuses_every_bad_one_without_throwing(bool native)
    {
        using var key = P256.ImportPublicKey(Point(_signer), native);
        var digest = SHA256.HashData("a CertificateInstallationReq's SignedInfo"u8);
        var signature = _signer.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.True(key.VerifySha256(digest, signature));

        var flipped = (byte[])signature.Clone();
        flipped[40] ^= 1;
        Assert.False(key.VerifySha256(digest, flipped));
        Assert.False(key.VerifySha256(SHA256.HashData("another message"u8), signature));
        Assert.False(key.VerifySha256(digest, signature[..63]));
        Assert.False(key.VerifySha256(digest, new byte[64]));
        // s = n is out of range (FIPS 186-5 §6.4.2: 1 <= r, s < n).
        var sIsOrder = signature[..32].Concat(Convert.FromHexString("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551")).ToArray();
        Assert.False(key.VerifySha256(digest, sIsOrder));
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.False(key.VerifySha256(digest, other.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));
        // The thread's OpenSSL error queue is left clean: .NET's next operation still works.
        Assert.True(_signer.VerifyHash(digest, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Theory, MemberData(nameof(Implementations))]
    public void An_x509_signature_verifies_only_in_its_der_encoding(bool native)
    {
        using var key = P256.ImportPublicKey(Point(_signer), native);
        var digest = SHA256.HashData("a to-be-signed certificate"u8);
        var der = _signer.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        Assert.True(key.VerifySha256Der(digest, der));
        Assert.False(key.VerifySha256Der(SHA256.HashData("another certificate"u8), der));
        Assert.False(key.VerifySha256Der(digest, _signer.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));
        Assert.False(key.VerifySha256Der(digest, der.Append((byte)0).ToArray()));
        // A BER length form (81 xx) of the same SEQUENCE is not DER.
        var ber = new byte[] { der[0], 0x81 }.Concat(der[1..]).ToArray();
        Assert.False(key.VerifySha256Der(digest, ber));
        Assert.False(key.VerifySha256Der(digest, ReadOnlySpan<byte>.Empty));
        Assert.True(_signer.VerifyHash(digest, der, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Theory, MemberData(nameof(Implementations))]
    public void An_ephemeral_agreement_gives_the_secret_the_peer_computes_with_its_private_key(bool native)
    {
        using var vehicle = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var key = P256.ImportPublicKey(Point(vehicle), native);
        var (z, ephemeralPoint) = key.AgreeWithEphemeral();
        using var ephemeral = ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = ephemeralPoint[1..33], Y = ephemeralPoint[33..] },
        });
        Assert.Equal(vehicle.DeriveRawSecretAgreement(ephemeral.PublicKey), z);
        Assert.NotEqual(ephemeralPoint, key.AgreeWithEphemeral().EphemeralPoint);
    }

    [Theory, MemberData(nameof(Implementations))]
    public void A_point_off_the_curve_or_in_another_form_is_refused(bool native)
    {
        using var good = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var point = Point(good);
        var offCurve = (byte[])point.Clone();
        offCurve[64] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => P256.ImportPublicKey(offCurve, native));
        var compressed = new byte[33];
        compressed[0] = (byte)(0x02 | (point[64] & 1));
        point.AsSpan(1, 32).CopyTo(compressed.AsSpan(1));
        Assert.ThrowsAny<CryptographicException>(() => P256.ImportPublicKey(compressed, native));
        var hybrid = (byte[])point.Clone();
        hybrid[0] = 0x06;
        Assert.ThrowsAny<CryptographicException>(() => P256.ImportPublicKey(hybrid, native));
        Assert.ThrowsAny<CryptographicException>(() => P256.ImportPublicKey(new byte[65], native));
        var zero = new byte[65];
        zero[0] = 0x04;
        Assert.ThrowsAny<CryptographicException>(() => P256.ImportPublicKey(zero, native));
    }

    [Fact]
    public void A_subject_public_key_info_must_be_on_p256()
    {
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var key = P256.ImportPublicKey(SubjectPublicKeyInfo.GetInstance(p256.ExportSubjectPublicKeyInfo()));
        Assert.Equal(Point(p256), key.Point);
        Assert.Equal(p256.ExportSubjectPublicKeyInfo(), P256.SubjectPublicKeyInfo(key.Point).GetEncoded());

        var unaligned = new SubjectPublicKeyInfo(P256.SubjectPublicKeyInfo(key.Point).Algorithm, new Org.BouncyCastle.Asn1.DerBitString(key.Point, 1));
        Assert.ThrowsAny<CryptographicException>(() => P256.ImportPublicKey(unaligned));

        using var p521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        Assert.ThrowsAny<CryptographicException>(() => P256.ImportPublicKey(SubjectPublicKeyInfo.GetInstance(p521.ExportSubjectPublicKeyInfo())));
    }

    private static byte[] Point(AsymmetricAlgorithm key)
    {
        var q = key switch
        {
            ECDsa e => e.ExportParameters(false).Q,
            ECDiffieHellman d => d.ExportParameters(false).Q,
            _ => throw new ArgumentException("EC keys only", nameof(key)),
        };
        return [0x04, .. q.X!, .. q.Y!];
    }
}
