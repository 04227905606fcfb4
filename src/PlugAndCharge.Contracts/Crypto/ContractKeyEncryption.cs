using System.Security.Cryptography;
using System.Text;

namespace PlugAndCharge.Contracts.Crypto;

/// <summary>The contract private key encrypted for one vehicle, and the ephemeral public key it needs to decrypt it.</summary>
public sealed record EncryptedContractKey(byte[] EncryptedPrivateKey, byte[] DhPublicKey);

/// <summary>
/// Encrypts a contract private key for the vehicle that will hold it, and (for the vehicle simulator and tests) back.
/// A fresh ephemeral key pair U per response; Z = ECDH(U, the vehicle's static key); K from
/// <see cref="ContractKeyDerivation"/>.
/// </summary>
public static class ContractKeyEncryption
{
    /// <summary>
    /// ISO 15118-2 [V2G2-814..823]: P-256 ECDH with the OEM provisioning key (for an update: the old contract key),
    /// K = KDF-SHA-256(Z)[0..16], AES-128-CBC over the 32-byte private scalar without padding, field = IV ‖ CT (48 bytes),
    /// DHpublickey = 04 ‖ X ‖ Y (65 bytes).
    /// </summary>
    /// <param name="ephemeral">Only for known-answer tests; production passes null and gets a fresh key.</param>
    /// <param name="iv">Only for known-answer tests; production passes null and gets a random IV.</param>
    public static EncryptedContractKey EncryptIso2(ReadOnlySpan<byte> contractScalar, ECDiffieHellmanPublicKey vehicleKey, ECDiffieHellman? ephemeral = null, byte[]? iv = null)
    {
        if (contractScalar.Length != 32) throw new ArgumentException("An ISO 15118-2 contract key is a 32-byte P-256 scalar.", nameof(contractScalar));
        using var owned = ephemeral == null ? ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256) : null;
        var u = ephemeral ?? owned!;
        var z = u.DeriveRawSecretAgreement(vehicleKey);
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
        return new EncryptedContractKey(output, UncompressedPoint(u.ExportParameters(false).Q));
    }

    /// <summary>The vehicle side of <see cref="EncryptIso2"/>: returns the 32-byte contract scalar.</summary>
    public static byte[] DecryptIso2(ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> dhPublicKey, ECDiffieHellman vehicleKey)
    {
        if (encrypted.Length != 48) throw new CryptographicException($"ContractSignatureEncryptedPrivateKey has {encrypted.Length} bytes; ISO 15118-2 sends IV (16) ‖ CT (32).");
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
    /// ISO 15118-20, ECDHCurve SECP521: P-521 ECDH with the OEM provisioning key, K = KDF-SHA-512(Z)[0..32],
    /// AES-256-GCM over the 66-byte private scalar with additional data = PCID ‖ contract certificate SKI (upper-case hex),
    /// field = IV (12) ‖ CT (66) ‖ tag (16) = 94 bytes; DHPublicKey = 04 ‖ X ‖ Y (133 bytes).
    /// </summary>
    public static EncryptedContractKey EncryptIso20Secp521(ReadOnlySpan<byte> contractScalar, ECDiffieHellmanPublicKey vehicleKey, string pcid, byte[] contractSki, ECDiffieHellman? ephemeral = null, byte[]? iv = null)
    {
        if (contractScalar.Length != 66) throw new ArgumentException("An ISO 15118-20 SECP521 contract key is a 66-byte scalar.", nameof(contractScalar));
        using var owned = ephemeral == null ? ECDiffieHellman.Create(ECCurve.NamedCurves.nistP521) : null;
        var u = ephemeral ?? owned!;
        var z = u.DeriveRawSecretAgreement(vehicleKey);
        var k = ContractKeyDerivation.Derive(z, HashAlgorithmName.SHA512, 32);
        CryptographicOperations.ZeroMemory(z);
        iv ??= RandomNumberGenerator.GetBytes(12);
        var output = new byte[12 + 66 + 16];
        iv.CopyTo(output, 0);
        using (var gcm = new AesGcm(k, 16))
            gcm.Encrypt(iv, contractScalar, output.AsSpan(12, 66), output.AsSpan(78, 16), AdditionalData(pcid, contractSki));
        CryptographicOperations.ZeroMemory(k);
        return new EncryptedContractKey(output, UncompressedPoint(u.ExportParameters(false).Q));
    }

    /// <summary>The vehicle side of <see cref="EncryptIso20Secp521"/>: returns the 66-byte contract scalar.</summary>
    public static byte[] DecryptIso20Secp521(ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> dhPublicKey, ECDiffieHellman vehicleKey, string pcid, byte[] contractSki)
    {
        if (encrypted.Length != 94) throw new CryptographicException($"SECP521_EncryptedPrivateKey has {encrypted.Length} bytes; expected 94.");
        using var peer = ImportPoint(dhPublicKey, ECCurve.NamedCurves.nistP521, 66);
        var z = vehicleKey.DeriveRawSecretAgreement(peer.PublicKey);
        var k = ContractKeyDerivation.Derive(z, HashAlgorithmName.SHA512, 32);
        CryptographicOperations.ZeroMemory(z);
        var plain = new byte[66];
        using (var gcm = new AesGcm(k, 16))
            gcm.Decrypt(encrypted[..12], encrypted.Slice(12, 66), encrypted.Slice(78, 16), plain, AdditionalData(pcid, contractSki));
        CryptographicOperations.ZeroMemory(k);
        return plain;
    }

    /// <summary>-20 additional data: the PCID in upper case followed by the contract certificate's SKI as upper-case hex, ASCII.</summary>
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
