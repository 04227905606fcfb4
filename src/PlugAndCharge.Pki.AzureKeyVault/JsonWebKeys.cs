using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.AzureKeyVault;

/// <summary>Key Vault's JSON Web Keys (RFC 7517/7518) to and from the CA's key model.</summary>
internal static class JsonWebKeys
{
    public static string Curve(KeyAlgorithm a) => a switch
    {
        KeyAlgorithm.EcP256 => "P-256",
        KeyAlgorithm.EcP384 => "P-384",
        KeyAlgorithm.EcP521 => "P-521",
        _ => throw new PkiException(PkiError.KeyNotAllowed, $"Azure Key Vault has no {a.ProfileName()} keys (EC P-256, P-384, P-521 only)."),
    };

    /// <summary>RFC 7518 §3.4: ES256 = P-256 + SHA-256, ES384 = P-384 + SHA-384, ES512 = P-521 + SHA-512.</summary>
    public static string SignatureAlgorithm(KeyAlgorithm a) => a switch
    {
        KeyAlgorithm.EcP256 => "ES256",
        KeyAlgorithm.EcP384 => "ES384",
        KeyAlgorithm.EcP521 => "ES512",
        _ => throw new PkiException(PkiError.KeyNotAllowed, $"Azure Key Vault cannot sign with {a.ProfileName()} keys."),
    };

    public static int FieldBytes(KeyAlgorithm a) => a switch { KeyAlgorithm.EcP256 => 32, KeyAlgorithm.EcP384 => 48, KeyAlgorithm.EcP521 => 66, _ => 0 };

    /// <summary>Reads a key bundle's "key" member ({kid, kty, crv, x, y, key_ops}).</summary>
    public static VaultKey Read(JsonElement bundle, string vault)
    {
        if (!bundle.TryGetProperty("key", out var jwk) || jwk.ValueKind != JsonValueKind.Object)
            throw new PkiException(PkiError.KeyProviderUnavailable, $"Azure Key Vault {vault} returned a key bundle without a key.");
        var kid = String(jwk, "kid", vault);
        var kty = String(jwk, "kty", vault);
        if (kty is not ("EC" or "EC-HSM"))
            throw new PkiException(PkiError.KeyNotAllowed, $"Vault key {kid} is a {kty} key; CA keys in the vault are EC (P-256, P-384, P-521).");
        var algorithm = String(jwk, "crv", vault) switch
        {
            "P-256" => KeyAlgorithm.EcP256,
            "P-384" => KeyAlgorithm.EcP384,
            "P-521" => KeyAlgorithm.EcP521,
            var c => throw new PkiException(PkiError.KeyNotAllowed, $"Vault key {kid} is on curve {c}; P-256, P-384 and P-521 are supported."),
        };
        var size = FieldBytes(algorithm);
        var x = Coordinate(String(jwk, "x", vault), size, kid);
        var y = Coordinate(String(jwk, "y", vault), size, kid);
        SubjectPublicKeyInfo spki;
        try
        {
            // ECDsa.Create validates that the point is on the curve.
            using var ec = ECDsa.Create(new ECParameters { Curve = algorithm.Curve(), Q = new ECPoint { X = x, Y = y } });
            spki = SubjectPublicKeyInfo.GetInstance(ec.ExportSubjectPublicKeyInfo());
        }
        catch (CryptographicException e) { throw new PkiException(PkiError.KeyNotAllowed, $"Vault key {kid} has a public point off its curve.", e); }
        var ops = jwk.TryGetProperty("key_ops", out var o) && o.ValueKind == JsonValueKind.Array
            ? o.EnumerateArray().Select(e => e.GetString() ?? "").ToList() : [];
        var enabled = !(bundle.TryGetProperty("attributes", out var attrs) && attrs.TryGetProperty("enabled", out var en) && en.ValueKind == JsonValueKind.False);
        var kidUri = new Uri(kid);
        var segments = kidUri.AbsolutePath.Trim('/').Split('/');
        if (segments.Length != 3 || segments[0] != "keys")
            throw new PkiException(PkiError.KeyProviderUnavailable, $"Vault key id '{kid}' is not of the form {{vault}}/keys/{{name}}/{{version}}.");
        return new VaultKey(kidUri, segments[1], segments[2], algorithm, spki, enabled, ops);
    }

    private static byte[] Coordinate(string b64, int size, string kid)
    {
        byte[] raw;
        try { raw = Base64Url.DecodeFromChars(b64); }
        catch (FormatException e) { throw new PkiException(PkiError.KeyNotAllowed, $"Vault key {kid} has a badly encoded coordinate.", e); }
        if (raw.Length > size) throw new PkiException(PkiError.KeyNotAllowed, $"Vault key {kid} has a coordinate of {raw.Length} bytes; its curve has {size}.");
        if (raw.Length == size) return raw;
        // RFC 7518 §6.2.1.2 requires full length; tolerate a producer that dropped leading zeros.
        var padded = new byte[size];
        raw.CopyTo(padded, size - raw.Length);
        return padded;
    }

    private static string String(JsonElement e, string name, string vault) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s
        : throw new PkiException(PkiError.KeyProviderUnavailable, $"Azure Key Vault {vault} returned a key without '{name}'.");
}
