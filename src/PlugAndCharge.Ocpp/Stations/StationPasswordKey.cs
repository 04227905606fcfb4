using System.Security.Cryptography;
using System.Text;

namespace PlugAndCharge.Ocpp.Stations;

/// <summary>
/// Records of service-generated station passwords: HMAC-SHA-256 under a server key, stored as
/// <c>hmac-sha256$KEYID$MAC</c> (base64). A generated password has 128 bits or more of entropy, so a fast keyed hash
/// is as safe as a slow one and costs microseconds instead of 50 ms per login; without the key a stolen table cannot
/// even be tried offline. The MAC covers the station id with the password, so a record copied onto another station
/// does not verify there. The key id names the key, so a record made under another key (or a later one) fails closed.
/// </summary>
public sealed class StationPasswordKey
{
    public const string Scheme = "hmac-sha256";
    private const int MacBytes = 32;
    private readonly byte[] _key;

    /// <summary>The key's id: derived from the secret, so every instance given the same secret names it the same.</summary>
    public string Id { get; }

    /// <param name="secret">The dedicated station-password secret (at least 32 bytes), shared by every instance.</param>
    public StationPasswordKey(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < 32) throw new ArgumentException("The station password key has at least 32 bytes.", nameof(secret));
        // Domain separation (RFC 5869 info): the MAC key and the key id are independent outputs of the secret, and
        // neither is the secret itself.
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, secret.ToArray());
        _key = HKDF.Expand(HashAlgorithmName.SHA256, prk, MacBytes, "PlugAndCharge OCPP station password MAC key"u8.ToArray());
        Id = Convert.ToHexStringLower(HKDF.Expand(HashAlgorithmName.SHA256, prk, 6, "PlugAndCharge OCPP station password key id"u8.ToArray()));
        CryptographicOperations.ZeroMemory(prk);
    }

    public static bool IsRecord(string? record) => record != null && record.StartsWith(Scheme + "$", StringComparison.Ordinal);

    public string Hash(string stationId, ReadOnlySpan<byte> password) =>
        string.Join('$', Scheme, Id, Convert.ToBase64String(Mac(stationId, password)));

    /// <summary>Constant-time; false for a record of another scheme, of another key id, or malformed.</summary>
    public bool Verify(string stationId, ReadOnlySpan<byte> password, string? record)
    {
        if (!IsRecord(record)) return false;
        var parts = record!.Split('$');
        if (parts.Length != 3 || parts[1] != Id) return false;
        var expected = new byte[MacBytes];
        if (!Convert.TryFromBase64String(parts[2], expected, out var written) || written != MacBytes) return false;
        return CryptographicOperations.FixedTimeEquals(Mac(stationId, password), expected);
    }

    private byte[] Mac(string stationId, ReadOnlySpan<byte> password)
    {
        // station id, a NUL (never part of an id), the password bytes as the station sent them.
        var id = Encoding.UTF8.GetBytes(stationId);
        var message = new byte[id.Length + 1 + password.Length];
        id.CopyTo(message, 0);
        password.CopyTo(message.AsSpan(id.Length + 1));
        var mac = HMACSHA256.HashData(_key, message);
        CryptographicOperations.ZeroMemory(message);
        return mac;
    }
}
