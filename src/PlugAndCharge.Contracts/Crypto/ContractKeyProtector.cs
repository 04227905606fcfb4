using System.Security.Cryptography;
using System.Text;

namespace PlugAndCharge.Contracts.Crypto;

/// <summary>
/// Keeps the service's secrets encrypted at rest: AES-256-GCM under the key-encryption key from configuration.
/// Contract private keys carry the contract id and EMAID as additional data, so a wrapped key cannot be moved to another
/// contract row; any other secret the service must read back (an OCPI party's token B) carries its own named context.
/// Blob = version 1 ‖ nonce (12) ‖ ciphertext ‖ tag (16). The clear key exists only in memory while a response is built.
/// Not an ISO 15118 mechanism, and a known difference: ISO 15118-20 [V2G20-2496] has the eMSP erase the contract private
/// key once it is sent, while this service keeps it (wrapped) so that a repeated installation re-delivers the same
/// certificate; see docs/iso15118-20.md.
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

    public byte[] Protect(ReadOnlySpan<byte> privateKey, Guid contractId, string emaid) => Seal(privateKey, Context(contractId, emaid));

    public byte[] Unprotect(ReadOnlySpan<byte> blob, Guid contractId, string emaid) => Open(blob, Context(contractId, emaid));

    /// <summary>Another secret bound to <paramref name="context"/> (e.g. <c>ocpi-token-b:PARTY</c>): usable only under that context.</summary>
    public byte[] Protect(ReadOnlySpan<byte> secret, string context) => Seal(secret, Encoding.UTF8.GetBytes("pnc-secret:" + context));

    public byte[] Unprotect(ReadOnlySpan<byte> blob, string context) => Open(blob, Encoding.UTF8.GetBytes("pnc-secret:" + context));

    private byte[] Seal(ReadOnlySpan<byte> plain, byte[] associatedData)
    {
        var kek = Kek();
        var blob = new byte[1 + 12 + plain.Length + 16];
        blob[0] = Version;
        RandomNumberGenerator.Fill(blob.AsSpan(1, 12));
        using var gcm = new AesGcm(kek, 16);
        gcm.Encrypt(blob.AsSpan(1, 12), plain, blob.AsSpan(13, plain.Length), blob.AsSpan(13 + plain.Length, 16), associatedData);
        return blob;
    }

    private byte[] Open(ReadOnlySpan<byte> blob, byte[] associatedData)
    {
        var kek = Kek();
        if (blob.Length < 1 + 12 + 16 || blob[0] != Version) throw new CryptographicException("The wrapped secret has an unknown format.");
        var plain = new byte[blob.Length - 29];
        using var gcm = new AesGcm(kek, 16);
        gcm.Decrypt(blob.Slice(1, 12), blob.Slice(13, plain.Length), blob[^16..], plain, associatedData);
        return plain;
    }

    private byte[] Kek() => _kek ?? throw new ContractException(ContractError.KeyEncryptionKeyMissing,
        "No key-encryption key for contract keys is configured (Contracts:KeyEncryptionKey, 32 bytes base64).");

    private static byte[] Context(Guid contractId, string emaid) => Encoding.ASCII.GetBytes($"pnc-contract-key:{contractId:N}:{emaid}");
}
