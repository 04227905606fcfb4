using System.Security.Cryptography;
using System.Text;

namespace PlugAndCharge.Storage.Secrets;

/// <summary>
/// Secrets the service must read back in clear (a party's OCPI token B, which the hub presents when it calls the party)
/// are stored encrypted: AES-256-GCM under a key derived with HKDF-SHA256 (RFC 5869) from the service's data-at-rest
/// key for one <paramref name="purpose"/>, with the row's identity as additional data so a value cannot be moved to
/// another row. Stored text = "v1:" + base64(nonce 12 ‖ ciphertext ‖ tag 16).
/// </summary>
public sealed class AtRestSecrets
{
    private const string Prefix = "v1:";
    private readonly byte[] _key;
    private readonly string _purpose;

    public AtRestSecrets(byte[] dataAtRestKey, string purpose)
    {
        if (dataAtRestKey is not { Length: 32 }) throw new ArgumentException("The data-at-rest key must be 32 bytes.", nameof(dataAtRestKey));
        _purpose = purpose;
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, dataAtRestKey, 32, info: Encoding.ASCII.GetBytes("pnc-at-rest:" + purpose));
    }

    public string? Protect(string? secret, string rowId)
    {
        if (secret == null) return null;
        var plain = Encoding.UTF8.GetBytes(secret);
        var blob = new byte[12 + plain.Length + 16];
        RandomNumberGenerator.Fill(blob.AsSpan(0, 12));
        using var gcm = new AesGcm(_key, 16);
        gcm.Encrypt(blob.AsSpan(0, 12), plain, blob.AsSpan(12, plain.Length), blob.AsSpan(12 + plain.Length), Context(rowId));
        return Prefix + Convert.ToBase64String(blob);
    }

    /// <summary>
    /// The clear secret; a value that fails authentication (wrong key, moved row, tampering) throws. A value written in
    /// clear by an earlier version is not used (null): the party registers again.
    /// </summary>
    public string? Unprotect(string? stored, string rowId)
    {
        if (stored == null || !stored.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var blob = Convert.FromBase64String(stored[Prefix.Length..]);
        if (blob.Length < 28) throw new CryptographicException($"A stored {_purpose} is truncated.");
        var plain = new byte[blob.Length - 28];
        using var gcm = new AesGcm(_key, 16);
        gcm.Decrypt(blob.AsSpan(0, 12), blob.AsSpan(12, plain.Length), blob.AsSpan(blob.Length - 16), plain, Context(rowId));
        return Encoding.UTF8.GetString(plain);
    }

    private byte[] Context(string rowId) => Encoding.UTF8.GetBytes($"{_purpose}:{rowId}");
}
