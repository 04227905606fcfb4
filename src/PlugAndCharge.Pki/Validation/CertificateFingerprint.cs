using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PlugAndCharge.Pki.Validation;

/// <summary>SHA-256 of a certificate's encoding, as a cheap dictionary key.</summary>
internal readonly record struct CertificateFingerprint(ulong A, ulong B, ulong C, ulong D)
{
    public static CertificateFingerprint Of(ReadOnlySpan<byte> der)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(der, hash);
        return new CertificateFingerprint(
            BinaryPrimitives.ReadUInt64LittleEndian(hash),
            BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));
    }
}
