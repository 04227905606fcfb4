using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Contracts.Pools;

/// <summary>A registered root with its parsed certificate (parsed once, so the chain validator's caches keep working).</summary>
public sealed record TrustedRoot(RootCertificate Record, X509Certificate Certificate);

/// <summary>
/// The root certificate pool (OPCP RCP): V2G, MO, OEM and PE roots with their SHA-256 fingerprints. Reads are served
/// from a snapshot refreshed after <see cref="ContractOptions.RootCacheLifetime"/> or at once after a change here.
/// </summary>
public sealed class RootCertificatePool(IRootCertificateStore store, ContractOptions options, TimeProvider clock)
{
    private volatile Snapshot? _snapshot;
    private readonly SemaphoreSlim _reload = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, X509Certificate> _parsed = new(StringComparer.Ordinal);

    private sealed record Snapshot(IReadOnlyList<TrustedRoot> Roots, DateTimeOffset LoadedAt);

    public async Task<RootCertificate> AddAsync(byte[] der, RootType type, string? ownerId, IReadOnlyList<string>? wmis, string actor, CancellationToken ct = default)
    {
        var cert = CertificateFacts.Read(der, "root certificate");
        if (!CertificateFacts.IsSelfSigned(cert))
            throw new ContractException(ContractError.ProfileViolation, "A root certificate must be self-issued (issuer = subject).");
        if (cert.GetBasicConstraints() < 0)
            throw new ContractException(ContractError.ProfileViolation, "A root certificate must be a CA (basicConstraints cA).");
        try { cert.Verify(cert.GetPublicKey()); }
        catch (Exception e) when (e is Org.BouncyCastle.Security.InvalidKeyException or Org.BouncyCastle.Security.Certificates.CertificateException or Org.BouncyCastle.Crypto.InvalidCipherTextException or ArgumentException)
        {
            throw new ContractException(ContractError.ChainInvalid, "The root's self-signature does not verify.", e);
        }
        var normalizedWmis = (wmis ?? []).Select(w => w.Trim().ToUpperInvariant()).Where(w => w.Length > 0).Distinct().ToList();
        if (normalizedWmis.Any(w => w.Length != 3 || !w.All(char.IsAsciiLetterOrDigit)))
            throw new ContractException(ContractError.Malformed, "A WMI is 3 letters or digits.");
        var sigAlg = CertificateFacts.SignatureAlgorithmName(cert);
        var record = new RootCertificate
        {
            Id = Guid.NewGuid(), Type = type, Der = der, Fingerprint = CertificateFacts.Fingerprint(der),
            DistinguishedName = cert.SubjectDN.ToString(), CommonName = CertificateFacts.CommonName(cert) ?? "",
            SerialNumber = CertificateFacts.SerialHex(cert), KeyIdentifier = Convert.ToHexStringLower(CertificateFacts.SubjectKeyIdentifier(cert)),
            ValidFrom = CertificateFacts.NotBefore(cert), ValidTo = CertificateFacts.NotAfter(cert),
            Standard = sigAlg == "secp256r1" ? IsoStandard.Iso15118_2 : IsoStandard.Iso15118_20, SignatureAlgorithm = sigAlg,
            OrganizationName = CertificateFacts.Organization(cert), OwnerId = ownerId, Wmis = normalizedWmis, AddedAt = clock.GetUtcNow(),
        };
        await store.AddRootAsync(record, new AuditEvent(actor, "root.add", record.Id.ToString(), new Dictionary<string, string>
        {
            ["type"] = type.ToString(), ["fingerprint"] = record.Fingerprint, ["subject"] = record.DistinguishedName, ["owner"] = ownerId ?? "", ["wmis"] = string.Join(",", normalizedWmis),
        }), ct);
        _snapshot = null;
        return record;
    }

    public async Task<RootCertificate> GetAsync(Guid id, CancellationToken ct = default) =>
        await store.GetRootAsync(id, ct) ?? throw new ContractException(ContractError.UnknownRoot, $"No root certificate {id}.");

    public async Task<IReadOnlyList<RootCertificate>> ListAsync(RootType? type = null, CancellationToken ct = default) =>
        (await store.ListRootsAsync(ct)).Where(r => type == null || r.Type == type).ToList();

    public async Task DeleteAsync(Guid id, string actor, CancellationToken ct = default)
    {
        if (!await store.DeleteRootAsync(id, new AuditEvent(actor, "root.delete", id.ToString()), ct))
            throw new ContractException(ContractError.UnknownRoot, $"No root certificate {id}.");
        _snapshot = null;
    }

    /// <summary>The trusted roots of a type (optionally one owner's), parsed, from the snapshot.</summary>
    public async Task<IReadOnlyList<TrustedRoot>> TrustedAsync(RootType type, string? ownerId = null, CancellationToken ct = default)
    {
        var roots = (await CurrentAsync(ct)).Roots;
        var result = new List<TrustedRoot>(roots.Count);
        foreach (var r in roots)
            if (r.Record.Type == type && (ownerId == null || r.Record.OwnerId == ownerId)) result.Add(r);
        return result;
    }

    /// <summary>Forgets the snapshot (another instance changed the pool).</summary>
    public void Invalidate() => _snapshot = null;

    private async Task<Snapshot> CurrentAsync(CancellationToken ct)
    {
        var s = _snapshot;
        if (s != null && clock.GetUtcNow() - s.LoadedAt < options.RootCacheLifetime) return s;
        await _reload.WaitAsync(ct);
        try
        {
            s = _snapshot;
            if (s != null && clock.GetUtcNow() - s.LoadedAt < options.RootCacheLifetime) return s;
            var records = await store.ListRootsAsync(ct);
            // Keep parsed certificates of unchanged roots: the validator caches by certificate object.
            var roots = records.Select(r => new TrustedRoot(r, _parsed.GetOrAdd(r.Fingerprint, _ => CertificateFacts.Read(r.Der, "root certificate")))).ToList();
            s = new Snapshot(roots, clock.GetUtcNow());
            _snapshot = s;
            return s;
        }
        finally { _reload.Release(); }
    }
}
