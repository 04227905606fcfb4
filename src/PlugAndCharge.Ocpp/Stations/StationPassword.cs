using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PlugAndCharge.Ocpp.Stations;

/// <summary>
/// Slow station password records: PBKDF2-HMAC-SHA256 with a random 16-byte salt, stored as
/// <c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c> (base64), for passwords an operator chose (which may be weak) and for
/// records made before generated passwords got keyed hashes (<see cref="StationPasswords"/>). The iteration count
/// travels with each record so it can be raised later without invalidating existing ones. Verification is constant-time.
/// </summary>
public static class StationPassword
{
    public const string Scheme = "pbkdf2-sha256";
    public const int DefaultIterations = 100_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>OCPP 2.0.1 BasicAuthPassword: 16 to 40 characters (passwordString, Part 2 Appendix).</summary>
    public const int MinLength = 16;
    public const int MaxLength = 40;

    public static string Hash(string password, int iterations = DefaultIterations)
    {
        if (password.Length < MinLength || password.Length > MaxLength)
            throw new ArgumentException($"A station password has {MinLength} to {MaxLength} characters (OCPP BasicAuthPassword).", nameof(password));
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Join('$', Scheme, iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(salt), Convert.ToBase64String(hash));
    }

    public static bool IsRecord(string? record) => record != null && record.StartsWith(Scheme + "$", StringComparison.Ordinal);

    public static bool Verify(ReadOnlySpan<byte> password, string? record)
    {
        if (string.IsNullOrEmpty(record)) return false;
        var parts = record.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < 1)
            return false;
        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            expected = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }
        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
