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
/// <item>ISO 15118-20 [V2G20-2535], for ECDHCurve SECP521 and X448 alike: H = SHA-512, AlgorithmID 0x01, sender "U" 0x55,
/// receiver "V" 0x56, exactly 256 bits (the AES-256-GCM key, one round); for X448 the shared secret Z is the RFC 7748
/// output as it comes ([V2G20-2710], [V2G20-2711]). Checked against the text and a second implementation
/// (docs/iso15118-20.md, tests/witness).</item>
/// </list>
/// </summary>
public static class ContractKeyDerivation
{
    /// <summary>AlgorithmID 01, PartyUInfo 55 ("U"), PartyVInfo 56 ("V") [V2G2-818], [V2G20-2535].</summary>
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
