using System.Collections.Concurrent;
using System.Security.Cryptography;
using Azure.Core;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Pki.AzureKeyVault;

/// <summary>
/// CA keys in Azure Key Vault (or Managed HSM), named <c>azurekv:vault=https://x.vault.azure.net;key=NAME[;version=V]</c>.
/// The private key never leaves the vault: the CA hashes here and the vault signs the digest (ES256/ES384/ES512).
/// Opening a key pins the version it read, so a rotation in the vault cannot make a CA sign with a key its
/// certificate does not hold. Key Vault has no Ed448 keys: -20 hierarchies in the vault use P-521.
/// </summary>
public sealed class AzureKeyVaultKeyProvider : IKeyProvider
{
    private readonly Func<Uri, IVaultKeys> _clientFactory;
    private readonly ConcurrentDictionary<string, IVaultKeys> _clients = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="credential">DefaultAzureCredential in production (managed identity, workload identity, az login).</param>
    public AzureKeyVaultKeyProvider(TokenCredential credential, KeyVaultClientOptions? options = null)
        : this(vault => new KeyVaultRestClient(vault, credential, options)) { }

    /// <summary>Over another implementation of the key operations (e.g. one on Azure.Security.KeyVault.Keys).</summary>
    public AzureKeyVaultKeyProvider(Func<Uri, IVaultKeys> clientFactory)
    {
        _clientFactory = clientFactory;
    }

    public IReadOnlyCollection<string> Schemes => ["azurekv"];

    private IVaultKeys ClientFor(Uri vault) => _clients.GetOrAdd(vault.GetLeftPart(UriPartial.Authority), _ => _clientFactory(vault));

    public async Task<ISigningKey> OpenAsync(KeyUri uri, CancellationToken ct = default)
    {
        var address = VaultKeyAddress.Parse(uri);
        var client = ClientFor(address.Vault);
        var key = await client.GetKeyAsync(address.Key, address.Version, ct);
        if (!key.Enabled) throw new PkiException(PkiError.KeyProviderUnavailable, $"Vault key '{uri}' is disabled.");
        if (key.Operations.Count > 0 && !key.Operations.Contains("sign"))
            throw new PkiException(PkiError.KeyNotAllowed, $"Vault key '{uri}' does not permit 'sign' (key_ops: {string.Join(", ", key.Operations)}).");
        return new AzureKeyVaultSigningKey(uri, client, key);
    }

    public async Task<ISigningKey> GenerateAsync(KeyUri uri, KeyAlgorithm algorithm, CancellationToken ct = default)
    {
        var address = VaultKeyAddress.Parse(uri);
        if (address.Version != null) throw new PkiException(PkiError.BadKeyUri, $"'{uri}': the vault chooses the version of a new key; leave version out.");
        JsonWebKeys.Curve(algorithm); // refuses Ed448/X448 before any request
        var client = ClientFor(address.Vault);
        // "create" on an existing name silently adds a version; the provider contract is never to replace a key.
        try
        {
            await client.GetKeyAsync(address.Key, null, ct);
            throw new PkiException(PkiError.KeyAlreadyExists, $"Vault key '{uri}' exists; refusing to create a new version over it.");
        }
        catch (PkiException e) when (e.Error == PkiError.KeyNotFound) { }
        var key = await client.CreateEcKeyAsync(address.Key, algorithm, ct);
        return new AzureKeyVaultSigningKey(uri, client, key);
    }
}

/// <summary>One version of a vault key; signatures are remote calls.</summary>
internal sealed class AzureKeyVaultSigningKey(KeyUri uri, IVaultKeys client, VaultKey key) : ISigningKey
{
    public KeyUri Uri { get; } = uri;
    public KeyAlgorithm Algorithm => key.Algorithm;
    public SubjectPublicKeyInfo PublicKey => key.PublicKey;
    public VaultKey Version => key;

    public async ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, SignatureFormat format = SignatureFormat.Der, CancellationToken ct = default)
    {
        var hash = Algorithm.Hash();
        var digest = hash == HashAlgorithmName.SHA256 ? SHA256.HashData(data.Span)
            : hash == HashAlgorithmName.SHA384 ? SHA384.HashData(data.Span)
            : SHA512.HashData(data.Span);
        var raw = await client.SignDigestAsync(key, digest, ct);
        return format == SignatureFormat.RawRs ? raw : PlugAndCharge.Pki.X509.EcdsaSignatureEncoding.RawToDer(raw);
    }

    public void Dispose() { }
}
