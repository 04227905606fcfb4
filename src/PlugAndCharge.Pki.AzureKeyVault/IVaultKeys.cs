using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.AzureKeyVault;

/// <summary>One version of a vault key: its identifier (kid), curve and public part.</summary>
public sealed record VaultKey(Uri Kid, string Name, string Version, KeyAlgorithm Algorithm, SubjectPublicKeyInfo PublicKey, bool Enabled, IReadOnlyList<string> Operations);

/// <summary>
/// The three Key Vault key operations the CA needs. <see cref="KeyVaultRestClient"/> implements them on Azure.Core;
/// an implementation over Azure.Security.KeyVault.Keys (KeyClient.GetKeyAsync / CreateEcKeyAsync,
/// CryptographyClient.SignAsync) can replace it without touching the provider.
/// </summary>
public interface IVaultKeys
{
    Uri VaultUri { get; }
    /// <summary>The latest version when <paramref name="version"/> is null. A missing key fails with KeyNotFound.</summary>
    Task<VaultKey> GetKeyAsync(string name, string? version, CancellationToken ct = default);
    /// <summary>Creates an EC key for signing (a new key, or a new version if the name exists: callers check first).</summary>
    Task<VaultKey> CreateEcKeyAsync(string name, KeyAlgorithm curve, CancellationToken ct = default);
    /// <summary>Signs a digest with ES256/ES384/ES512 (RFC 7518 §3.4): the result is raw r‖s.</summary>
    Task<byte[]> SignDigestAsync(VaultKey key, byte[] digest, CancellationToken ct = default);
}
