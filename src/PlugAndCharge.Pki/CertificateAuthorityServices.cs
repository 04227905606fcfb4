using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Profiles;
using PlugAndCharge.Pki.Revocation;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Pki;

/// <summary>The CA's parts wired over one set of stores and keys (what a host or the CLI composes).</summary>
public sealed class CertificateAuthorityServices
{
    public ProfileCatalog Profiles { get; }
    public PkiOptions Options { get; }
    public ICertificateAuthorityStore CaStore { get; }
    public ICertificateStore Certificates { get; }
    public IAuditLog Audit { get; }
    public KeyProviderRegistry Keys { get; }
    public CertificateAuthorityDirectory Authorities { get; }
    public CertificateIssuer Issuer { get; }
    public HierarchyBuilder Hierarchy { get; }
    public CertificateRevoker Revoker { get; }
    public CrlIssuer Crls { get; }

    public CertificateAuthorityServices(ICertificateAuthorityStore caStore, ICertificateStore certificates, IAuditLog audit, KeyProviderRegistry keys,
        ProfileCatalog? profiles = null, PkiOptions? options = null, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        Profiles = profiles ?? ProfileCatalog.BuiltIn;
        Options = options ?? new PkiOptions();
        CaStore = caStore; Certificates = certificates; Audit = audit; Keys = keys;
        Authorities = new CertificateAuthorityDirectory(caStore, keys, Profiles);
        Issuer = new CertificateIssuer(Authorities, certificates, Profiles, Options, clock);
        Hierarchy = new HierarchyBuilder(caStore, Authorities, Issuer, keys, Profiles, Options, clock);
        Revoker = new CertificateRevoker(certificates, clock);
        Crls = new CrlIssuer(Authorities, caStore, certificates, Options, clock);
    }

    /// <summary>Everything in memory with in-memory keys: tests, benchmarks, demos.</summary>
    public static CertificateAuthorityServices InMemory(TimeProvider? clock = null, PkiOptions? options = null)
    {
        var store = new InMemoryPkiStore(clock ?? TimeProvider.System);
        return new CertificateAuthorityServices(store, store, store, new KeyProviderRegistry([new SoftwareKeyProvider(null, null)]), null, options, clock);
    }
}
