using System.Security.Cryptography;
using System.Text;

namespace PlugAndCharge.Contracts.Crypto;

/// <summary>
/// Keeps contract private keys encrypted at rest: AES-256-GCM under the key-encryption key from configuration, with
/// the contract id and EMAID as additional data so a wrapped key cannot be moved to another contract row.
/// Blob = version 1 ‖ nonce (12) ‖ ciphertext ‖ tag (16). The clear key exists only in memory while a response is built.
/// </summary>
public sealed class ContractKeyProtector
{
    private const byte Version = 1;
    private readonly byte[]? _kek;

    public ContractKeyProtector(byte[]? keyEncryptionKey)
    {
        if (keyEncryptionKey != null && keyEncryptionKey.Length != 32)
            throw new ContractException(ContractError.KeyEncryptionKeyMissing, "The contract key-encryption key must be 32 bytes (AES-256).");
        _kek = keyEncryptionKey?.ToArray();
    }

    public bool IsConfigured => _kek != null;

    public byte[] Protect(ReadOnlySpan<byte> privateKey, Guid contractId, string emaid)
    {
        var kek = Kek();
        var blob = new byte[1 + 12 + privateKey.Length + 16];
        blob[0] = Version;
        RandomNumberGenerator.Fill(blob.AsSpan(1, 12));
        using var gcm = new AesGcm(kek, 16);
        gcm.Encrypt(blob.AsSpan(1, 12), privateKey, blob.AsSpan(13, privateKey.Length), blob.AsSpan(13 + privateKey.Length, 16), Context(contractId, emaid));
        return blob;
    }

    public byte[] Unprotect(ReadOnlySpan<byte> blob, Guid contractId, string emaid)
    {
        var kek = Kek();
        if (blob.Length < 1 + 12 + 16 || blob[0] != Version) throw new CryptographicException("The wrapped contract key has an unknown format.");
        var plain = new byte[blob.Length - 29];
        using var gcm = new AesGcm(kek, 16);
        gcm.Decrypt(blob.Slice(1, 12), blob.Slice(13, plain.Length), blob[^16..], plain, Context(contractId, emaid));
        return plain;
    }

    private byte[] Kek() => _kek ?? throw new ContractException(ContractError.KeyEncryptionKeyMissing,
        "No key-encryption key for contract keys is configured (Contracts:KeyEncryptionKey, 32 bytes base64).");

    private static byte[] Context(Guid contractId, string emaid) => Encoding.ASCII.GetBytes($"pnc-contract-key:{contractId:N}:{emaid}");
}
