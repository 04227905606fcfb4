using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace PlugAndCharge.Pki.X509;

/// <summary>Serial numbers: 16 bytes of CSPRNG output with the top bit clear (positive, 127 bits of entropy, RFC 5280 §4.1.2.2 max 20 octets).</summary>
public static class SerialNumbers
{
    public static BigInteger NewRandom()
    {
        Span<byte> b = stackalloc byte[16];
        do
        {
            RandomNumberGenerator.Fill(b);
            b[0] &= 0x7F;
        } while (b[0] == 0); // keep the full 16-byte length (and never zero)
        return new BigInteger(1, b.ToArray());
    }

    /// <summary>Lower-case hex of the positive integer without leading zeros: the key of the certificate store.</summary>
    public static string ToHex(BigInteger serial) => serial.ToString(16).ToLowerInvariant();

    public static BigInteger FromHex(string hex)
    {
        var h = hex.Trim().Replace(":", "");
        if (h.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) h = h[2..];
        if (h.Length == 0 || h.Length > 80 || !h.All(Uri.IsHexDigit)) throw new PkiException(PkiError.Malformed, $"'{hex}' is not a hexadecimal serial number.");
        return new BigInteger(h, 16);
    }

    public static string Normalize(string hex) => ToHex(FromHex(hex));
}
