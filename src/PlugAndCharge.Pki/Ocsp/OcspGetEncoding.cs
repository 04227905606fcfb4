namespace PlugAndCharge.Pki.Ocsp;

/// <summary>
/// The GET form of an OCSP request: the URL-encoding of the base64 of its DER (RFC 6960 Appendix A.1, RFC 5019 §5).
/// Clients differ: some percent-encode '+', '/' and '=' (%2B, %2F, %3D), some send them bare, some use base64url
/// ('-', '_', no padding), and a '+' sent bare may reach us as ' ' after form-style decoding on the way. All of them
/// decode here to the same DER.
/// </summary>
public static class OcspGetEncoding
{
    /// <summary>Longest encoded request accepted (Kestrel's request line is 8 KiB by default).</summary>
    public const int MaxEncodedLength = 16 * 1024;

    /// <summary>Decodes <paramref name="encoded"/> into <paramref name="output"/>; the byte count, or -1 when it is not such an encoding.</summary>
    public static int Decode(ReadOnlySpan<char> encoded, Span<byte> output)
    {
        if (encoded.IsEmpty || encoded.Length > MaxEncodedLength) return -1;
        var buffer = encoded.Length <= 1024 ? stackalloc char[encoded.Length + 3] : new char[encoded.Length + 3];
        var n = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '%')
            {
                if (i + 2 >= encoded.Length || !Uri.IsHexDigit(encoded[i + 1]) || !Uri.IsHexDigit(encoded[i + 2])) return -1;
                c = (char)(HexValue(encoded[i + 1]) << 4 | HexValue(encoded[i + 2]));
                i += 2;
            }
            switch (c)
            {
                case '-' or ' ': c = '+'; break; // base64url, or a '+' that became a space
                case '_': c = '/'; break;
                case '=': continue; // padding is restored below, whether it was sent or not
                case '\r' or '\n' or '\t': continue;
            }
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '/')) return -1;
            buffer[n++] = c;
        }
        if (n % 4 == 1) return -1;
        while (n % 4 != 0) buffer[n++] = '=';
        return Convert.TryFromBase64Chars(buffer[..n], output, out var written) ? written : -1;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
