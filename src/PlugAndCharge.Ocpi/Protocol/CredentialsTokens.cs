using System.Security.Cryptography;
using System.Text;

namespace PlugAndCharge.Ocpi.Protocol;

/// <summary>
/// Credentials tokens (A, C) the hub hands out: 32 random bytes, base64url, so printable ASCII U+0021..U+007E of at
/// most 64 characters as the Credentials object requires. They are stored only as SHA-256: the tokens are
/// high-entropy random values, not passwords, so a plain hash is enough to make a stolen database useless for logging in.
/// </summary>
public static class CredentialsTokens
{
    public static string New() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token)
    {
        Span<byte> digest = stackalloc byte[32];
        var max = Encoding.UTF8.GetMaxByteCount(token.Length);
        var buf = max <= 512 ? stackalloc byte[max] : new byte[max];
        var n = Encoding.UTF8.GetBytes(token, buf);
        SHA256.HashData(buf[..n], digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>2.2.1-d2 / 2.3.0: "Authorization: Token " + base64(token).</summary>
    public static string AuthorizationHeader(string token) => "Token " + Convert.ToBase64String(Encoding.UTF8.GetBytes(token));

    /// <summary>Printable non-whitespace ASCII (U+0021..U+007E), 1..64 characters: the Credentials.token rule.</summary>
    public static bool IsWellFormed(string? token) =>
        !string.IsNullOrEmpty(token) && token.Length <= 64 && token.All(c => c is >= '!' and <= '~');

    /// <summary>
    /// Reads the token of an Authorization header. 2.2.1-d2 and 2.3.0 send base64 of the token, 2.1.1 and many peers
    /// the raw token: both candidates are returned and the caller tries each against the tokens it knows.
    /// </summary>
    public static bool TryRead(string? header, out string raw, out string? decoded)
    {
        raw = ""; decoded = null;
        if (header is null || !header.StartsWith("Token ", StringComparison.OrdinalIgnoreCase)) return false;
        raw = header[6..].Trim();
        if (raw.Length == 0) return false;
        Span<byte> bytes = stackalloc byte[raw.Length];
        if (Convert.TryFromBase64String(raw, bytes, out var n) && n > 0)
        {
            var ok = true;
            foreach (var b in bytes[..n]) if (b is < 0x21 or > 0x7E) { ok = false; break; }
            if (ok) decoded = Encoding.ASCII.GetString(bytes[..n]);
        }
        return true;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
