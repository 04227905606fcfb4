using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PlugAndCharge.Contracts.Crypto;

/// <summary>
/// The one key-derivation function of contract key delivery: the single-step concatenation KDF of NIST SP 800-56A
/// (rev. 3 §5.8.2.1.1): K = H(counter ‖ Z ‖ OtherInfo) for counter = 1, 2, ... (32-bit big-endian), truncated.
/// <list type="bullet">
/// <item>ISO 15118-2 [V2G2-818]: H = SHA-256, OtherInfo = AlgorithmID 0x01 ‖ PartyUInfo 0x55 ‖ PartyVInfo 0x56, 16 bytes
/// (the AES-128 key); one round. This is what RISE V2G, SwitchEV iso15118 and EVerest do, and the known-answer vector
/// in tests/vectors/iso15118_2_contract_key_encryption proves it.</item>
/// <item>ISO 15118-20, for ECDHCurve SECP521 and X448 alike: H = SHA-512 (the hash -20 pairs with secp521r1), the
/// same OtherInfo, 32 bytes (the AES-256-GCM key). The public record of the -20 derivation is thin: this is our documented choice, to be checked against the
/// standard's text ([V2G20-…] KDF requirement) before interoperating with a production vehicle.</item>
/// </list>
/// </summary>
public static class ContractKeyDerivation
{
    /// <summary>AlgorithmID 01, PartyUInfo 55 ("U"), PartyVInfo 56 ("V") [V2G2-818].</summary>
    public static ReadOnlySpan<byte> OtherInfo => [0x01, 0x55, 0x56];

    public static byte[] Derive(ReadOnlySpan<byte> sharedSecret, HashAlgorithmName hash, int keyLength)
    {
        var hashLength = hash == HashAlgorithmName.SHA512 ? 64 : hash == HashAlgorithmName.SHA256 ? 32
            : throw new ArgumentException("The contract key KDF uses SHA-256 (-2) or SHA-512 (-20).", nameof(hash));
        var key = new byte[keyLength];
        Span<byte> block = stackalloc byte[64];
        using var h = IncrementalHash.CreateHash(hash);
        Span<byte> counter = stackalloc byte[4];
        for (uint round = 1, done = 0; done < keyLength; round++, done += (uint)hashLength)
        {
            BinaryPrimitives.WriteUInt32BigEndian(counter, round);
            h.AppendData(counter);
            h.AppendData(sharedSecret);
            h.AppendData(OtherInfo);
            h.GetHashAndReset(block);
            block[..Math.Min(hashLength, keyLength - (int)done)].CopyTo(key.AsSpan((int)done));
        }
        CryptographicOperations.ZeroMemory(block);
        return key;
    }
}
