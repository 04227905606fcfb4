using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace PlugAndCharge.Pki.X509;

/// <summary>Serial numbers: positive, 16 bytes (RFC 5280 §4.1.2.2: at most 20 octets).</summary>
public static class SerialNumbers
{
    /// <summary>Values <see cref="Compose"/> takes: the counter occupies the low seven bytes.</summary>
    public const long MaxCounter = (1L << 56) - 1;

    /// <summary>
    /// A serial unique by construction: nine bytes of CSPRNG output with the top bit clear (71 bits; the CA/Browser Forum
    /// asks for at least 64), then <paramref name="counter"/> in seven bytes. Serials with different counter values differ
    /// whatever the random part, so a store counter that never repeats (a database sequence) makes them unique across all
    /// issuers and instances, and the random part keeps them unpredictable.
    /// </summary>
    public static BigInteger Compose(long counter)
    {
        if (counter is < 1 or > MaxCounter) throw new ArgumentOutOfRangeException(nameof(counter), counter, "The serial counter is outside 1..2^56-1.");
        var b = new byte[16];
        FillRandomPositive(b.AsSpan(0, 9));
        for (var i = 15; i >= 9; i--, counter >>= 8) b[i] = (byte)counter;
        return new BigInteger(1, b);
    }

    /// <summary>16 bytes of CSPRNG output with the top bit clear (127 bits), for certificates outside the store (self-signed roots, test material).</summary>
    public static BigInteger NewRandom()
    {
        var b = new byte[16];
        FillRandomPositive(b);
        return new BigInteger(1, b);
    }

    /// <summary>CSPRNG bytes with the top bit clear (a positive leading byte) and a non-zero first byte, so the serial keeps its full length.</summary>
    private static void FillRandomPositive(Span<byte> b)
    {
        do
        {
            RandomNumberGenerator.Fill(b);
            b[0] &= 0x7F;
        } while (b[0] == 0);
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
