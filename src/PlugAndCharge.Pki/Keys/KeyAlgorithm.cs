using System.Security.Cryptography;

namespace PlugAndCharge.Pki.Keys;

public enum KeyAlgorithm { EcP256, EcP384, EcP521, Ed448, X448 }

public static class KeyAlgorithms
{
    /// <summary>The profile name of a key algorithm (pki/profiles "keys").</summary>
    public static string ProfileName(this KeyAlgorithm a) => a switch
    {
        KeyAlgorithm.EcP256 => "secp256r1",
        KeyAlgorithm.EcP384 => "secp384r1",
        KeyAlgorithm.EcP521 => "secp521r1",
        KeyAlgorithm.Ed448 => "ed448",
        KeyAlgorithm.X448 => "x448",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    public static KeyAlgorithm FromProfileName(string name) => name.ToLowerInvariant() switch
    {
        "secp256r1" or "p-256" or "prime256v1" or "p256" => KeyAlgorithm.EcP256,
        "secp384r1" or "p-384" or "p384" => KeyAlgorithm.EcP384,
        "secp521r1" or "p-521" or "p521" => KeyAlgorithm.EcP521,
        "ed448" => KeyAlgorithm.Ed448,
        "x448" => KeyAlgorithm.X448,
        _ => throw new PkiException(PkiError.KeyNotAllowed, $"Unknown key algorithm '{name}' (secp256r1, secp384r1, secp521r1, ed448, x448)."),
    };

    /// <summary>ISO 15118 pairs each curve with one hash: P-256/SHA-256 (-2), P-521/SHA-512 (-20).</summary>
    public static HashAlgorithmName Hash(this KeyAlgorithm a) => a switch
    {
        KeyAlgorithm.EcP256 => HashAlgorithmName.SHA256,
        KeyAlgorithm.EcP384 => HashAlgorithmName.SHA384,
        KeyAlgorithm.EcP521 => HashAlgorithmName.SHA512,
        _ => throw new PkiException(PkiError.KeyNotAllowed, $"{a} signs without a separate hash."),
    };

    public static bool IsEc(this KeyAlgorithm a) => a is KeyAlgorithm.EcP256 or KeyAlgorithm.EcP384 or KeyAlgorithm.EcP521;

    public static bool CanSign(this KeyAlgorithm a) => a != KeyAlgorithm.X448;

    public static ECCurve Curve(this KeyAlgorithm a) => a switch
    {
        KeyAlgorithm.EcP256 => ECCurve.NamedCurves.nistP256,
        KeyAlgorithm.EcP384 => ECCurve.NamedCurves.nistP384,
        KeyAlgorithm.EcP521 => ECCurve.NamedCurves.nistP521,
        _ => throw new ArgumentOutOfRangeException(nameof(a), $"{a} is not an ECDSA curve."),
    };

    /// <summary>The X.509 signature algorithm name (profile "signatureAlgorithms") this key signs with.</summary>
    public static string SignatureAlgorithmName(this KeyAlgorithm a) => a switch
    {
        KeyAlgorithm.EcP256 => "ecdsa-with-SHA256",
        KeyAlgorithm.EcP384 => "ecdsa-with-SHA384",
        KeyAlgorithm.EcP521 => "ecdsa-with-SHA512",
        KeyAlgorithm.Ed448 => "ed448",
        _ => throw new PkiException(PkiError.KeyNotAllowed, $"{a} cannot sign."),
    };
}
