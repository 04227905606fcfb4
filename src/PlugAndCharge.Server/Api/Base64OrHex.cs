namespace PlugAndCharge.Server.Api;

/// <summary>Binary fields of OPCP bodies (encrypted key, DH public key): base64, or hex as some MO CAs send them.</summary>
public static class Base64OrHex
{
    /// <summary>The bytes, or null when <paramref name="text"/> is empty or neither hex nor base64.</summary>
    public static byte[]? Decode(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        if (text.Length % 2 == 0 && text.All(char.IsAsciiHexDigit))
            return Convert.FromHexString(text);
        try { return Convert.FromBase64String(text); } catch (FormatException) { return null; }
    }
}
