using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using PlugAndCharge.Pki.Crypto;

namespace PlugAndCharge.Contracts.Crypto;

/// <summary>
/// The contract private key encrypted for one vehicle, and the ephemeral public key it needs to decrypt it; for -20
/// also the ECDHCurve (SECP521 or X448) the response names.
/// </summary>
public sealed record EncryptedContractKey(byte[] EncryptedPrivateKey, byte[] DhPublicKey, string? EcdhCurve = null);

/// <summary>
/// Encrypts a contract private key for the vehicle that will hold it, and (for the vehicle simulator and tests) back.
/// A fresh ephemeral key pair U per response; Z = ECDH(U, the vehicle's static key) (ISO 15118-2 [V2G2-818], ISO 15118-20
/// [V2G20-2535]: one-pass Diffie-Hellman, the sender is party U, the vehicle party V); K from <see cref="ContractKeyDerivation"/>.
/// The requirement table, with what each id says and the test that checks it, is docs/iso15118-20.md; tests/witness has a
/// second implementation written from the text alone.
/// </summary>
public static class ContractKeyEncryption
{
    /// <summary>
    /// ISO 15118-2: the key travels only encrypted [V2G2-814]; P-256 ECDH with the OEM provisioning key [V2G2-820] (for an
    /// update: the old contract key [V2G2-821]); K = KDF-SHA-256(Z)[0..16] [V2G2-818]; AES-128-CBC [V2G2-815] over the
    /// 32-byte big-endian private scalar without padding [V2G2-816]; field = IV (16 most significant bytes) ‖ CT = 48 bytes
    /// [V2G2-817]; DHpublickey = 04 ‖ X ‖ Y, 65 bytes [V2G2-819].
    /// </summary>
    public static EncryptedContractKey EncryptIso2(ReadOnlySpan<byte> contractScalar, P256PublicKey vehicleKey)
    {
        CheckIso2Scalar(contractScalar);
        var (z, ephemeralPoint) = vehicleKey.AgreeWithEphemeral();
        return new EncryptedContractKey(SealIso2(z, contractScalar, null), ephemeralPoint);
    }

    /// <summary>
    /// <see cref="EncryptIso2(ReadOnlySpan{byte}, P256PublicKey)"/> with .NET keys, for known-answer tests and for
    /// callers that play an eMSP's own MO CA.
    /// </summary>
    /// <param name="ephemeral">Only for known-answer tests; production passes null and gets a fresh key.</param>
    /// <param name="iv">Only for known-answer tests; production passes null and gets a random IV.</param>
    public static EncryptedContractKey EncryptIso2(ReadOnlySpan<byte> contractScalar, ECDiffieHellmanPublicKey vehicleKey, ECDiffieHellman? ephemeral = null, byte[]? iv = null)
    {
        CheckIso2Scalar(contractScalar);
        using var owned = ephemeral == null ? ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256) : null;
        var u = ephemeral ?? owned!;
        return new EncryptedContractKey(SealIso2(u.DeriveRawSecretAgreement(vehicleKey), contractScalar, iv), UncompressedPoint(u.ExportParameters(false).Q));
    }

    private static void CheckIso2Scalar(ReadOnlySpan<byte> contractScalar)
    {
        if (contractScalar.Length != 32) throw new ArgumentException("An ISO 15118-2 contract key is a 32-byte P-256 scalar.", nameof(contractScalar));
    }

    /// <summary>IV ‖ AES-128-CBC(K = KDF-SHA-256(Z)[0..16], scalar) [V2G2-815], [V2G2-817], [V2G2-818]. Zeroes Z.</summary>
    private static byte[] SealIso2(byte[] z, ReadOnlySpan<byte> contractScalar, byte[]? iv)
    {
        var k = ContractKeyDerivation.Derive(z, HashAlgorithmName.SHA256, 16);
        CryptographicOperations.ZeroMemory(z);
        iv ??= RandomNumberGenerator.GetBytes(16);
        var output = new byte[48];
        iv.CopyTo(output, 0);
        using (var aes = Aes.Create())
        {
            aes.Key = k;
            aes.EncryptCbc(contractScalar, iv, output.AsSpan(16), PaddingMode.None);
        }
        CryptographicOperations.ZeroMemory(k);
        return output;
    }

    /// <summary>
    /// The vehicle side of <see cref="EncryptIso2"/>: returns the 32-byte contract scalar. The caller checks it against the
    /// contract certificate [V2G2-823] (VehicleSimulator.KeyMatching).
    /// </summary>
    public static byte[] DecryptIso2(ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> dhPublicKey, ECDiffieHellman vehicleKey)
    {
        if (encrypted.Length != 48) throw new CryptographicException($"ContractSignatureEncryptedPrivateKey has {encrypted.Length} bytes; ISO 15118-2 sends IV (16) ‖ CT (32) [V2G2-817].");
        using var peer = ImportPoint(dhPublicKey, ECCurve.NamedCurves.nistP256, 32);
        var z = vehicleKey.DeriveRawSecretAgreement(peer.PublicKey);
        var k = ContractKeyDerivation.Derive(z, HashAlgorithmName.SHA256, 16);
        CryptographicOperations.ZeroMemory(z);
        using var aes = Aes.Create();
        aes.Key = k;
        CryptographicOperations.ZeroMemory(k);
        return aes.DecryptCbc(encrypted[16..], encrypted[..16], PaddingMode.None);
    }

    /// <summary>
    /// ISO 15118-20, ECDHCurve SECP521 [V2G20-2487]: P-521 ECDH with the OEM provisioning key [V2G20-2533],
    /// K = KDF-SHA-512(Z)[0..32] [V2G20-2535]; AES-256-GCM [V2G20-2497] with a random 96-bit IV and a 128-bit tag
    /// [V2G20-2494] over the private scalar as 66 big-endian bytes (521 bits after 7 zero bits) [V2G20-2497],
    /// [V2G20-2498]; additional data per [V2G20-2492] (<see cref="AdditionalData"/>); field = IV (12) ‖ CT (66) ‖ tag (16)
    /// = 94 bytes [V2G20-2499]; DHPublicKey = 04 ‖ X ‖ Y, 133 bytes [V2G20-2489], NOTE 6/7.
    /// </summary>
    public static EncryptedContractKey EncryptIso20Secp521(ReadOnlySpan<byte> contractScalar, ECDiffieHellmanPublicKey vehicleKey, string pcid, byte[] contractSki, ECDiffieHellman? ephemeral = null, byte[]? iv = null)
    {
        if (contractScalar.Length != 66) throw new ArgumentException("An ISO 15118-20 SECP521 contract key is a 66-byte scalar.", nameof(contractScalar));
        using var owned = ephemeral == null ? ECDiffieHellman.Create(ECCurve.NamedCurves.nistP521) : null;
        var u = ephemeral ?? owned!;
        var z = u.DeriveRawSecretAgreement(vehicleKey);
        return new EncryptedContractKey(SealIso20(z, contractScalar, pcid, contractSki, iv), UncompressedPoint(u.ExportParameters(false).Q), "SECP521");
    }

    /// <summary>
    /// The vehicle side of <see cref="EncryptIso20Secp521"/> [V2G20-2505]: returns the 66-byte contract scalar, refusing a
    /// failed authentication [V2G20-2504]. The caller checks the 7 leading zero bits and the key against the certificate
    /// ([V2G20-2678], [V2G20-2506], [V2G20-2507]: VehicleSimulator.KeyMatching).
    /// </summary>
    public static byte[] DecryptIso20Secp521(ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> dhPublicKey, ECDiffieHellman vehicleKey, string pcid, byte[] contractSki)
    {
        if (encrypted.Length != 94) throw new CryptographicException($"SECP521_EncryptedPrivateKey has {encrypted.Length} bytes; expected 94 [V2G20-2499].");
        using var peer = ImportPoint(dhPublicKey, ECCurve.NamedCurves.nistP521, 66);
        return OpenIso20(vehicleKey.DeriveRawSecretAgreement(peer.PublicKey), encrypted, pcid, contractSki);
    }

    /// <summary>
    /// ISO 15118-20, ECDHCurve X448 [V2G20-2488]: X448 (RFC 7748) [V2G20-2710] with the vehicle's X448 key
    /// (<see cref="Ed448KeyAgreement"/> for an Ed448 provisioning key; [V2G20-2534] names an alternate public key instead,
    /// see docs/iso15118-20.md), the same KDF [V2G20-2535] and AES-256-GCM [V2G20-2500], [V2G20-2501] as SECP521 over the
    /// 56-byte contract secret, field = IV (12) ‖ CT (56) ‖ tag (16) = 84 bytes [V2G20-2502]. DHPublicKey: see
    /// <see cref="X448DhPublicKeyField"/>.
    /// </summary>
    public static EncryptedContractKey EncryptIso20X448(ReadOnlySpan<byte> contractSecret, ReadOnlySpan<byte> vehicleX448PublicKey, string pcid, byte[] contractSki,
        X448PrivateKeyParameters? ephemeral = null, byte[]? iv = null)
    {
        if (contractSecret.Length != 56) throw new ArgumentException("An ISO 15118-20 X448 delivery carries a 56-byte secret.", nameof(contractSecret));
        var u = ephemeral ?? new X448PrivateKeyParameters(new SecureRandom());
        var z = X448Secret(u, vehicleX448PublicKey);
        return new EncryptedContractKey(SealIso20(z, contractSecret, pcid, contractSki, iv), X448DhPublicKeyField(u.GeneratePublicKey().GetEncoded()), "X448");
    }

    /// <summary>
    /// The vehicle side of <see cref="EncryptIso20X448"/> [V2G20-2508], [V2G20-2711]: returns the 56-byte contract secret
    /// [V2G20-2509]; the caller checks it against the certificate [V2G20-2510] (VehicleSimulator.Ed448ScalarMatching).
    /// </summary>
    public static byte[] DecryptIso20X448(ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> dhPublicKey, ReadOnlySpan<byte> vehicleX448PrivateKey, string pcid, byte[] contractSki)
    {
        // [V2G20-2502]/[V2G20-2508]: IV (12) ‖ CT (56) ‖ tag (16).
        if (encrypted.Length != 84) throw new CryptographicException($"X448_EncryptedPrivateKey has {encrypted.Length} bytes; expected 84.");
        return OpenIso20(X448Secret(new X448PrivateKeyParameters(vehicleX448PrivateKey), X448PublicKeyOfField(dhPublicKey)), encrypted, pcid, contractSki);
    }

    /// <summary>
    /// DHPublicKey for ECDHCurve X448: 0x04 ‖ the 56-byte RFC 7748 u-coordinate, 57 bytes. [V2G20-2489] asks for the
    /// "uncompressed form", NOTE 6 fixes the first byte at 0x04 and NOTE 7 gives 57 bytes for X448; [V2G20-2495] forbids
    /// filling up to the 133 bytes of the schema's dhPublicKeyType (EXI codecs take that facet as a maximum).
    /// docs/iso15118-20.md has the quotes and the other reading (the bare 56 bytes), which <see cref="X448PublicKeyOfField"/> accepts.
    /// </summary>
    public static byte[] X448DhPublicKeyField(ReadOnlySpan<byte> x448PublicKey)
    {
        if (x448PublicKey.Length != 56) throw new ArgumentException("An X448 public key has 56 bytes.", nameof(x448PublicKey));
        var field = new byte[57];
        field[0] = 0x04;
        x448PublicKey.CopyTo(field.AsSpan(1));
        return field;
    }

    /// <summary>
    /// The X448 public key in a received DHPublicKey, read both ways the text allows: 0x04 ‖ u (57 bytes, NOTE 6/7) or
    /// the bare u (56 bytes, RFC 7748 / RFC 8410). Filler up to 133 bytes is refused [V2G20-2495].
    /// </summary>
    public static ReadOnlySpan<byte> X448PublicKeyOfField(ReadOnlySpan<byte> dhPublicKey) => dhPublicKey.Length switch
    {
        57 when dhPublicKey[0] == 0x04 => dhPublicKey[1..],
        56 => dhPublicKey,
        _ => throw new CryptographicException($"An X448 DHPublicKey is 0x04 ‖ u (57 bytes) or u (56 bytes) [V2G20-2489, NOTE 7], not {dhPublicKey.Length} bytes [V2G20-2495]."),
    };

    private static byte[] X448Secret(X448PrivateKeyParameters own, ReadOnlySpan<byte> peer)
    {
        var z = new byte[56];
        // RFC 7748 §6.2: an all-zero shared secret (a low-order peer key) must be refused; BouncyCastle throws for it.
        try { own.GenerateSecret(new X448PublicKeyParameters(peer), z); }
        catch (InvalidOperationException e) { throw new CryptographicException("X448 agreement failed: " + e.Message, e); }
        return z;
    }

    /// <summary>
    /// IV (12 most significant bytes) ‖ AES-256-GCM(K = KDF-SHA-512(Z)[0..32], secret, AD = PCID ‖ SKI) ‖ tag (16 least
    /// significant bytes) [V2G20-2497]..[V2G20-2502]; the IV is random per encryption. Zeroes Z.
    /// </summary>
    private static byte[] SealIso20(byte[] z, ReadOnlySpan<byte> secret, string pcid, byte[] contractSki, byte[]? iv)
    {
        var k = ContractKeyDerivation.Derive(z, HashAlgorithmName.SHA512, 32);
        CryptographicOperations.ZeroMemory(z);
        iv ??= RandomNumberGenerator.GetBytes(12);
        var output = new byte[12 + secret.Length + 16];
        iv.CopyTo(output, 0);
        using (var gcm = new AesGcm(k, 16))
            gcm.Encrypt(iv, secret, output.AsSpan(12, secret.Length), output.AsSpan(12 + secret.Length, 16), AdditionalData(pcid, contractSki));
        CryptographicOperations.ZeroMemory(k);
        return output;
    }

    private static byte[] OpenIso20(byte[] z, ReadOnlySpan<byte> encrypted, string pcid, byte[] contractSki)
    {
        var k = ContractKeyDerivation.Derive(z, HashAlgorithmName.SHA512, 32);
        CryptographicOperations.ZeroMemory(z);
        var plain = new byte[encrypted.Length - 28];
        using (var gcm = new AesGcm(k, 16))
            gcm.Decrypt(encrypted[..12], encrypted.Slice(12, plain.Length), encrypted[^16..], plain, AdditionalData(pcid, contractSki));
        CryptographicOperations.ZeroMemory(k);
        return plain;
    }

    /// <summary>
    /// -20 additional data [V2G20-2492]: the PCID of the request in capital letters, then the contract certificate's SKI as
    /// hexadecimal with capital letters, ASCII. The text gives 18 and 16 bytes; a 17-character PCID and a 20-byte SKI
    /// (40 hex digits) are taken whole, neither padded nor cut (docs/iso15118-20.md).
    /// </summary>
    public static byte[] AdditionalData(string pcid, byte[] contractSki) => Encoding.ASCII.GetBytes(pcid.ToUpperInvariant() + Convert.ToHexString(contractSki));

    public static byte[] UncompressedPoint(ECPoint q)
    {
        var p = new byte[1 + q.X!.Length + q.Y!.Length];
        p[0] = 0x04;
        q.X.CopyTo(p, 1);
        q.Y.CopyTo(p, 1 + q.X.Length);
        return p;
    }

    private static ECDiffieHellman ImportPoint(ReadOnlySpan<byte> point, ECCurve curve, int coordinate)
    {
        if (point.Length != 1 + 2 * coordinate || point[0] != 0x04) throw new CryptographicException($"DH public key must be an uncompressed point of {1 + 2 * coordinate} bytes.");
        // ImportParameters validates that the point lies on the curve (invalid-curve attacks).
        return ECDiffieHellman.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = point.Slice(1, coordinate).ToArray(), Y = point.Slice(1 + coordinate, coordinate).ToArray() } });
    }
}
