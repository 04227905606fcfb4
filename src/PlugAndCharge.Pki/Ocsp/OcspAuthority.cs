using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Pki.Ocsp;

/// <summary>
/// One CA as its responder sees it: the issuer hashes a CertID must carry for each hash algorithm (RFC 6960 §4.1.1:
/// issuerNameHash over the DER of the issuer's subject, issuerKeyHash over its subjectPublicKey BIT STRING value),
/// the signing identity, the pre-signed answers and the revoked serials last read from the store.
/// </summary>
internal sealed class OcspAuthority
{
    private readonly byte[][] _nameHashes;
    private readonly byte[][] _keyHashes;
    private readonly ConcurrentDictionary<byte[], OcspCachedResponse> _cache = new(CertIdKeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], OcspCachedResponse>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private long _generation;

    public string CaId { get; }
    public CaRecord Record { get; }
    /// <summary>Null when the configured signer cannot be used; then every answer is internalError with <see cref="SignerFailure"/>.</summary>
    public OcspSigningIdentity? Signer { get; }
    public Exception? SignerFailure { get; }
    public HashSet<string> RevokedSerials { get; }
    public int CachedCount => _cache.Count;

    public OcspAuthority(CaRecord record, OcspSigningIdentity? signer, Exception? signerFailure, IEnumerable<string> revokedSerials)
    {
        CaId = record.Id; Record = record; Signer = signer; SignerFailure = signerFailure;
        RevokedSerials = new HashSet<string>(revokedSerials, StringComparer.Ordinal);
        _lookup = _cache.GetAlternateLookup<ReadOnlySpan<byte>>();
        using var cert = X509CertificateLoader.LoadCertificate(record.CertificateDer);
        var name = cert.SubjectName.RawData;
        var key = cert.PublicKey.EncodedKeyValue.RawData;
        _nameHashes = [SHA1.HashData(name), SHA256.HashData(name), SHA384.HashData(name), SHA512.HashData(name)];
        _keyHashes = [SHA1.HashData(key), SHA256.HashData(key), SHA384.HashData(key), SHA512.HashData(key)];
    }

    /// <summary>True when the CertID names this CA under a hash we support.</summary>
    public bool IsIssuerOf(ReadOnlySpan<byte> request, in OcspCertId id) =>
        id.HashAlgorithm != OcspHashAlgorithm.Unsupported
        && request[id.IssuerNameHash].SequenceEqual(_nameHashes[(int)id.HashAlgorithm])
        && request[id.IssuerKeyHash].SequenceEqual(_keyHashes[(int)id.HashAlgorithm]);

    public OcspCertQuery Query(ReadOnlySpan<byte> request, in OcspCertId id) =>
        new(request[id.Encoded].ToArray(), IsIssuerOf(request, id) ? SerialOf(request[id.Serial]) : null);

    /// <summary>The store's serial form (lower-case hex, no leading zeros); null for zero or negative, which we never issue.</summary>
    private static string? SerialOf(ReadOnlySpan<byte> integer)
    {
        if (integer.Length == 0 || (integer[0] & 0x80) != 0 || integer.Length > 64) return null;
        while (integer.Length > 1 && integer[0] == 0) integer = integer[1..];
        var hex = Convert.ToHexStringLower(integer);
        var trimmed = hex.TrimStart('0');
        return trimmed.Length == 0 ? null : trimmed;
    }

    public bool TryGetCached(ReadOnlySpan<byte> certId, DateTimeOffset now, out OcspCachedResponse entry) =>
        _lookup.TryGetValue(certId, out entry!) && now < entry.NextUpdate;

    /// <summary>Changes whenever an answer is dropped, so an answer built from a read made before a revocation is not cached after it.</summary>
    public long Generation => Volatile.Read(ref _generation);

    public void Store(OcspCachedResponse entry, long generationAtRead, int maxEntries)
    {
        if (_cache.Count >= maxEntries && !_cache.ContainsKey(entry.Query.CertIdDer)) return;
        _cache[entry.Query.CertIdDer] = entry;
        // A revocation that dropped answers while this one was built: drop it too rather than keep a stale good.
        if (Generation != generationAtRead) _cache.TryRemove(entry.Query.CertIdDer, out _);
    }

    /// <summary>Drops every cached answer about <paramref name="serial"/> (any hash algorithm, any CertID encoding).</summary>
    public void Invalidate(string serial)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (key, entry) in _cache)
            if (entry.Query.Serial == serial) _cache.TryRemove(key, out _);
    }

    /// <summary>Removes answers past nextUpdate that nobody asked for again.</summary>
    public void Sweep(DateTimeOffset now)
    {
        foreach (var (key, entry) in _cache)
            if (now >= entry.NextUpdate) _cache.TryRemove(key, out _);
    }
}
