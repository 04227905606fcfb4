using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PlugAndCharge.Server.Participants;

namespace PlugAndCharge.Server.Authentication;

/// <summary>
/// OAuth2 access tokens for the client-credentials grant, as compact JWTs (RFC 7519) signed with HMAC-SHA256 under a
/// key shared by every instance (configuration <c>Pnc:Tokens:SigningKey</c>, base64, at least 32 bytes). The token names
/// the participant and the OAuth client; the handler re-checks both against the registry on every request, so disabling
/// a participant or revoking a client takes effect before the token expires.
/// </summary>
public sealed class AccessTokens(byte[] signingKey, TimeProvider clock, TimeSpan lifetime)
{
    public const string Issuer = "plugandcharge";
    public TimeSpan Lifetime => lifetime;

    public sealed record Claims(string ParticipantId, string ClientId, string Scope, DateTimeOffset Expires);

    public string Issue(string participantId, string clientId, string scope)
    {
        var now = clock.GetUtcNow();
        var header = ClientSecrets.Base64Url("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray());
        var payload = ClientSecrets.Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = Issuer, ["sub"] = participantId, ["client_id"] = clientId, ["scope"] = scope,
            ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = (now + lifetime).ToUnixTimeSeconds(),
            ["jti"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
        }));
        var signingInput = header + "." + payload;
        return signingInput + "." + ClientSecrets.Base64Url(HMACSHA256.HashData(signingKey, Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>The token's claims when its signature, issuer and expiry are good; otherwise null with the reason.</summary>
    public Claims? Validate(string token, out string? problem)
    {
        problem = null;
        var parts = token.Split('.');
        if (parts.Length != 3 || token.Length > 4096) { problem = "The bearer token is not a JWT."; return null; }
        try
        {
            var expected = HMACSHA256.HashData(signingKey, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
            if (!CryptographicOperations.FixedTimeEquals(expected, FromBase64Url(parts[2]))) { problem = "The bearer token's signature is invalid."; return null; }
            using var header = JsonDocument.Parse(FromBase64Url(parts[0]));
            if (header.RootElement.GetProperty("alg").GetString() != "HS256") { problem = "The bearer token's algorithm is not accepted."; return null; }
            using var body = JsonDocument.Parse(FromBase64Url(parts[1]));
            var root = body.RootElement;
            if (root.GetProperty("iss").GetString() != Issuer) { problem = "The bearer token was not issued here."; return null; }
            var exp = DateTimeOffset.FromUnixTimeSeconds(root.GetProperty("exp").GetInt64());
            if (exp <= clock.GetUtcNow()) { problem = "The bearer token has expired."; return null; }
            return new Claims(root.GetProperty("sub").GetString()!, root.GetProperty("client_id").GetString()!, root.GetProperty("scope").GetString() ?? "", exp);
        }
        catch (Exception e) when (e is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            problem = "The bearer token is malformed.";
            return null;
        }
    }

    private static byte[] FromBase64Url(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b.PadRight(b.Length + (4 - b.Length % 4) % 4, '='));
    }
}
