using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.X509;

namespace PlugAndCharge.Pki.Issuance;

/// <summary>A CA ready to sign: its record, parsed certificate, profile, key identifier and signing key.</summary>
public sealed class CertificateAuthority
{
    public CaRecord Record { get; }
    public X509Certificate Certificate { get; }
    public CertificateProfile Profile { get; }
    public ISigningKey Key { get; }
    public byte[] KeyIdentifier { get; }
    public X509Name Subject => Certificate.SubjectDN;
    public string Id => Record.Id;
    /// <summary>Issuer certificates above this CA, nearest first, ending with the root.</summary>
    public IReadOnlyList<X509Certificate> ChainAbove { get; }

    public CertificateAuthority(CaRecord record, X509Certificate certificate, CertificateProfile profile, ISigningKey key, IReadOnlyList<X509Certificate> chainAbove)
    {
        Record = record; Certificate = certificate; Profile = profile; Key = key; ChainAbove = chainAbove;
        var ski = certificate.GetExtensionValue(X509Extensions.SubjectKeyIdentifier);
        KeyIdentifier = ski != null
            ? SubjectKeyIdentifier.GetInstance(Org.BouncyCastle.Asn1.Asn1OctetString.GetInstance(ski).GetOctets()).GetKeyIdentifier()
            : PublicKeys.KeyIdentifier(certificate.SubjectPublicKeyInfo);
    }

    /// <summary>This CA's certificate followed by the ones above it: what a relying party needs after a leaf.</summary>
    public IReadOnlyList<X509Certificate> ChainIncludingSelf => [Certificate, .. ChainAbove];
}

/// <summary>Loads CAs from the store and their keys from the key registry, once.</summary>
public sealed class CertificateAuthorityDirectory(ICertificateAuthorityStore store, KeyProviderRegistry keys, ProfileCatalog profiles)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<CertificateAuthority>>> _cache = new(StringComparer.Ordinal);

    public async Task<CertificateAuthority> GetAsync(string caId, CancellationToken ct = default)
    {
        var lazy = _cache.GetOrAdd(caId, id => new Lazy<Task<CertificateAuthority>>(() => LoadAsync(id)));
        try { return await lazy.Value.WaitAsync(ct); }
        catch { _cache.TryRemove(caId, out _); throw; }
    }

    public void Invalidate(string caId) => _cache.TryRemove(caId, out _);

    /// <summary>
    /// A CA's certificate and the ones above it, without opening its key (PBKDF2 for a file key): what a signer under
    /// it needs to present, e.g. the CPS leaf an instance takes up again when it starts.
    /// </summary>
    public async Task<(CaRecord Record, IReadOnlyList<X509Certificate> ChainIncludingSelf)> ChainAsync(string caId, CancellationToken ct = default)
    {
        var record = await store.GetAsync(caId, ct) ?? throw new PkiException(PkiError.UnknownCa, $"No CA '{caId}'.");
        var chain = new List<X509Certificate> { new X509CertificateParser().ReadCertificate(record.CertificateDer) };
        var parentId = record.ParentId;
        while (parentId != null && parentId != caId && chain.Count < 9)
        {
            var parent = await store.GetAsync(parentId, ct) ?? throw new PkiException(PkiError.UnknownCa, $"CA '{caId}' names missing parent '{parentId}'.");
            chain.Add(new X509CertificateParser().ReadCertificate(parent.CertificateDer));
            parentId = parent.ParentId == parent.Id ? null : parent.ParentId;
        }
        return (record, chain);
    }

    private async Task<CertificateAuthority> LoadAsync(string caId)
    {
        var (record, chain) = await ChainAsync(caId);
        var key = await keys.OpenAsync(KeyUri.Parse(record.KeyUri));
        return new CertificateAuthority(record, chain[0], profiles.Get(record.ProfileId), key, chain.Skip(1).ToList());
    }
}
