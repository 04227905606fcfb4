using System.Numerics;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;

namespace PlugAndCharge.Contracts.Crypto;

/// <summary>
/// The X448 side of an Ed448 key, for -20 contract key delivery with ECDHCurve X448 ([V2G20-2488], [V2G20-2710],
/// [V2G20-2711]): a vehicle in the Ed448 family signs its CertificateInstallationReq with the Ed448 key of its OEM
/// provisioning certificate [V2G20-2319], and the hub agrees a key with that same key pair in its Montgomery form.
/// [V2G20-2534] has the EVCC use the key of the provisioning certificate's "Alternate Subject Public Key" instead; the
/// annex B.7.2 profile that defines it was not found in the public material, so that key is not read yet
/// (docs/iso15118-20.md).
/// <list type="bullet">
/// <item>Public: RFC 7748 §4.2 maps edwards448 to curve448 by the 4-isogeny u = y²/x². On the curve
/// x² + y² = 1 + d·x²·y² (d = −39081) that is u = y²·(1 − d·y²) / (1 − y²), computed from y alone.</item>
/// <item>Private: the Ed448 secret scalar s of RFC 8032 §5.2.5 (the first 57 bytes of SHAKE256(key, 114), clamped;
/// its last byte is zero) is clamped exactly as RFC 7748 decodeScalar448 clamps an X448 key, so its first 56 bytes are
/// the X448 private key, and X448(s, 5) is the u above.</item>
/// </list>
/// The same 56-byte scalar is what an X448 delivery carries for an Ed448 contract key: X448_EncryptedPrivateKey has
/// room for 56 bytes (84 = IV 12 ‖ 56 ‖ tag 16, [V2G20-2502]), not for the 57-byte RFC 8032 private key, and s is all a
/// signer needs; [V2G20-2510] checks it as the scalar that multiplies the base point. A clamped s has bit 447 set and is
/// therefore never "strictly smaller than the order" that [V2G20-2510] also asks for: the check compares the points.
/// </summary>
public static class Ed448KeyAgreement
{
    private static readonly BigInteger P = BigInteger.Pow(2, 448) - BigInteger.Pow(2, 224) - 1;
    private static readonly BigInteger D = P - 39081;

    /// <summary>The 56-byte X448 public key (u, little-endian) of a 57-byte Ed448 public key.</summary>
    public static byte[] X448PublicKey(ReadOnlySpan<byte> ed448PublicKey)
    {
        if (ed448PublicKey.Length != Ed448PublicKeyParameters.KeySize)
            throw new CryptographicException($"An Ed448 public key has 57 bytes, not {ed448PublicKey.Length}.");
        // Decoding the point refuses keys that are not on the curve.
        try { _ = new Ed448PublicKeyParameters(ed448PublicKey); }
        catch (ArgumentException e) { throw new CryptographicException("The Ed448 public key is not a point of the curve.", e); }
        var encodedY = ed448PublicKey.ToArray();
        encodedY[56] &= 0x7F; // the top bit is the sign of x
        var y = new BigInteger(encodedY, isUnsigned: true);
        var y2 = y * y % P;
        var denominator = Mod(1 - y2);
        if (y >= P || denominator.IsZero) throw new CryptographicException("The Ed448 public key is the neutral element or not canonical.");
        var u = y2 * Mod(1 - D * y2) % P * BigInteger.ModPow(denominator, P - 2, P) % P;
        if (u.IsZero) throw new CryptographicException("The Ed448 public key maps to a low-order X448 point.");
        var bytes = u.ToByteArray(isUnsigned: true);
        Array.Resize(ref bytes, X448PublicKeyParameters.KeySize);
        return bytes;
    }

    /// <summary>The 56-byte secret scalar s of a 57-byte RFC 8032 Ed448 private key: its X448 private key. Zero it after use.</summary>
    public static byte[] SecretScalar(ReadOnlySpan<byte> ed448PrivateKey)
    {
        if (ed448PrivateKey.Length != Ed448PrivateKeyParameters.KeySize)
            throw new CryptographicException($"An Ed448 private key has 57 bytes, not {ed448PrivateKey.Length}.");
        var shake = new ShakeDigest(256);
        shake.BlockUpdate(ed448PrivateKey);
        var h = new byte[114];
        shake.OutputFinal(h, 0, h.Length);
        var s = h[..56];
        CryptographicOperations.ZeroMemory(h);
        s[0] &= 0xFC;
        s[55] |= 0x80;
        return s;
    }

    /// <summary>The X448 public key of a 56-byte scalar (for the vehicle side: does a delivered key fit its certificate?).</summary>
    public static byte[] X448PublicKeyOfScalar(ReadOnlySpan<byte> scalar) =>
        new X448PrivateKeyParameters(scalar).GeneratePublicKey().GetEncoded();

    private static BigInteger Mod(BigInteger a) => (a % P + P) % P;
}
