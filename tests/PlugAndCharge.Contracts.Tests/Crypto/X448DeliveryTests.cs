using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using PlugAndCharge.Contracts.Crypto;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Crypto;

/// <summary>ISO 15118-20 ECDHCurve X448: the Ed448 → X448 key forms, and the AES-256-GCM delivery of a 56-byte secret.</summary>
public class X448DeliveryTests
{
    // RFC 8032 §7.4, Ed448 test vector "Blank".
    private static readonly byte[] Rfc8032Secret = Convert.FromHexString(
        "6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b");
    private static readonly byte[] Rfc8032Public = Convert.FromHexString(
        "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180");

    [Fact]
    public void The_X448_form_of_an_Ed448_public_key_is_the_X448_key_of_its_secret_scalar()
    {
        Assert.Equal(Rfc8032Public, new Ed448PrivateKeyParameters(Rfc8032Secret).GeneratePublicKey().GetEncoded());
        // Two independent routes: the RFC 7748 isogeny over the Edwards point, and BouncyCastle's X448 ladder over s.
        Assert.Equal(Ed448KeyAgreement.X448PublicKeyOfScalar(Ed448KeyAgreement.SecretScalar(Rfc8032Secret)), Ed448KeyAgreement.X448PublicKey(Rfc8032Public));
        for (var i = 0; i < 16; i++)
        {
            var key = new Ed448PrivateKeyParameters(new SecureRandom());
            Assert.Equal(Ed448KeyAgreement.X448PublicKeyOfScalar(Ed448KeyAgreement.SecretScalar(key.GetEncoded())),
                Ed448KeyAgreement.X448PublicKey(key.GeneratePublicKey().GetEncoded()));
        }
    }

    [Fact]
    public void Bad_Ed448_keys_are_refused()
    {
        Assert.Throws<CryptographicException>(() => Ed448KeyAgreement.X448PublicKey(new byte[56]));
        var neutral = new byte[57];
        neutral[0] = 1; // y = 1: the neutral element
        Assert.Throws<CryptographicException>(() => Ed448KeyAgreement.X448PublicKey(neutral));
        // About half of all y have no x on the curve: one of the first few changed encodings is such a y.
        var offCurve = Enumerable.Range(1, 16).Select(i => { var k = (byte[])Rfc8032Public.Clone(); k[0] ^= (byte)i; return k; }).First(k => !IsOnCurve(k));
        Assert.Throws<CryptographicException>(() => Ed448KeyAgreement.X448PublicKey(offCurve));
        Assert.Throws<CryptographicException>(() => Ed448KeyAgreement.SecretScalar(new byte[56]));
    }

    private static bool IsOnCurve(byte[] key)
    {
        try { _ = new Ed448PublicKeyParameters(key); return true; }
        catch (ArgumentException) { return false; }
    }

    [Fact]
    public void A_56_byte_secret_round_trips_over_X448_with_AES_256_GCM_bound_to_PCID_and_SKI()
    {
        var vehicle = new Ed448PrivateKeyParameters(new SecureRandom());
        var vehicleX448 = Ed448KeyAgreement.X448PublicKey(vehicle.GeneratePublicKey().GetEncoded());
        var own = Ed448KeyAgreement.SecretScalar(vehicle.GetEncoded());
        var secret = Ed448KeyAgreement.SecretScalar(new Ed448PrivateKeyParameters(new SecureRandom()).GetEncoded());
        var ski = RandomNumberGenerator.GetBytes(20);

        var sent = ContractKeyEncryption.EncryptIso20X448(secret, vehicleX448, "WMA00000000000001", ski);
        Assert.Equal("X448", sent.EcdhCurve);
        Assert.Equal(84, sent.EncryptedPrivateKey.Length); // IV 12 ‖ 56 ‖ tag 16
        // [V2G20-2489] NOTE 6/7: 0x04 ‖ the 56-byte u-coordinate, 57 bytes; no filler up to 133 [V2G20-2495].
        Assert.Equal(57, sent.DhPublicKey.Length);
        Assert.Equal(0x04, sent.DhPublicKey[0]);
        Assert.Equal(secret, ContractKeyEncryption.DecryptIso20X448(sent.EncryptedPrivateKey, sent.DhPublicKey, own, "wma00000000000001", ski));
        // The other reading of the text, the bare RFC 7748 key, is accepted too.
        Assert.Equal(secret, ContractKeyEncryption.DecryptIso20X448(sent.EncryptedPrivateKey, sent.DhPublicKey[1..], own, "WMA00000000000001", ski));

        // Another vehicle, another certificate, the old zero-filled 133-byte field, a wrong prefix, a low-order key: refused.
        Assert.ThrowsAny<CryptographicException>(() => ContractKeyEncryption.DecryptIso20X448(sent.EncryptedPrivateKey, sent.DhPublicKey, own, "WMA00000000000002", ski));
        Assert.ThrowsAny<CryptographicException>(() => ContractKeyEncryption.DecryptIso20X448(sent.EncryptedPrivateKey, sent.DhPublicKey, own, "WMA00000000000001", RandomNumberGenerator.GetBytes(20)));
        var padded = new byte[133];
        sent.DhPublicKey.AsSpan(1).CopyTo(padded);
        Assert.Throws<CryptographicException>(() => ContractKeyEncryption.DecryptIso20X448(sent.EncryptedPrivateKey, padded, own, "WMA00000000000001", ski));
        var prefixed = (byte[])sent.DhPublicKey.Clone();
        prefixed[0] = 0x02;
        Assert.Throws<CryptographicException>(() => ContractKeyEncryption.DecryptIso20X448(sent.EncryptedPrivateKey, prefixed, own, "WMA00000000000001", ski));
        Assert.Throws<CryptographicException>(() => ContractKeyEncryption.EncryptIso20X448(secret, new byte[56], "WMA00000000000001", ski));
    }
}
