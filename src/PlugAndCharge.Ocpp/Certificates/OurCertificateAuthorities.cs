using System.Security.Cryptography;
using Org.BouncyCastle.X509;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Pki.Validation;

namespace PlugAndCharge.Ocpp.Certificates;

/// <summary>What a root is for, read from its profile id (e.g. <c>iso2/mo-root</c>).</summary>
public enum RootKind { None, V2G, MO, OEM }

/// <summary>One of our CAs with what the OCPP side asks of it: its certificate and its OCSP CertID hashes.</summary>
public sealed class KnownCa
{
    public string Id { get; }
    public string ProfileId { get; }
    public X509Certificate Certificate { get; }
    public bool IsRoot { get; }
    public RootKind RootKind { get; }
    private readonly Dictionary<string, (byte[] Name, byte[] Key)> _hashes = new(StringComparer.Ordinal);

    public KnownCa(CaRecord record)
    {
        Id = record.Id;
        ProfileId = record.ProfileId;
        Certificate = CertificateReader.ReadCertificate(record.CertificateDer);
        IsRoot = record.ParentId == null;
        var profile = ProfileId[(ProfileId.IndexOf('/') + 1)..];
        RootKind = !IsRoot ? RootKind.None : profile switch
        {
            "v2g-root" => RootKind.V2G,
            "mo-root" => RootKind.MO,
            "oem-root" => RootKind.OEM,
            _ => RootKind.None,
        };
        var name = Certificate.SubjectDN.GetEncoded();
        var key = Certificate.CertificateStructure.SubjectPublicKeyInfo.PublicKey.GetBytes();
        foreach (var alg in CertificateHashes.Algorithms)
            _hashes[alg] = (CertificateHashes.Hash(alg, name), CertificateHashes.Hash(alg, key));
    }

    /// <summary>True when an OCSP CertID (RFC 6960 §4.1.1) names this CA as the issuer.</summary>
    public bool IsIssuerOf(string hashAlgorithm, ReadOnlySpan<byte> issuerNameHash, ReadOnlySpan<byte> issuerKeyHash) =>
        _hashes.TryGetValue(hashAlgorithm, out var h) && h.Name.AsSpan().SequenceEqual(issuerNameHash) && h.Key.AsSpan().SequenceEqual(issuerKeyHash);
}

/// <summary>Our CAs at one moment, indexed for the questions OCPP asks.</summary>
public sealed class CaSnapshot
{
    private readonly Dictionary<string, KnownCa> _byFingerprint;

    public IReadOnlyList<KnownCa> All { get; }
    /// <summary>MO and V2G roots plus the configured extra contract roots: anchors of contract chains (docs/domain.md §6, C07).</summary>
    public IReadOnlyList<X509Certificate> ContractRoots { get; }
    /// <summary>V2G roots plus configured extra station roots: anchors of station client certificates (profile 3).</summary>
    public IReadOnlyList<X509Certificate> StationRoots { get; }
    /// <summary>Our sub-CA certificates: candidate intermediates when a peer sends only its leaf.</summary>
    public IReadOnlyList<X509Certificate> SubCaCertificates { get; }

    public CaSnapshot(IReadOnlyList<KnownCa> all, IReadOnlyList<X509Certificate> extraContractRoots, IReadOnlyList<X509Certificate> extraStationRoots)
    {
        All = all;
        _byFingerprint = all.GroupBy(c => Fingerprint(c.Certificate)).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        ContractRoots = [.. all.Where(c => c.RootKind is RootKind.MO or RootKind.V2G).Select(c => c.Certificate), .. extraContractRoots];
        StationRoots = [.. all.Where(c => c.RootKind is RootKind.V2G).Select(c => c.Certificate), .. extraStationRoots];
        SubCaCertificates = all.Where(c => !c.IsRoot).Select(c => c.Certificate).ToList();
    }

    public KnownCa? ByCertificate(X509Certificate certificate) => _byFingerprint.GetValueOrDefault(Fingerprint(certificate));

    /// <summary>Our CAs whose subject is <paramref name="issuer"/> (more than one only across key rollover).</summary>
    public IEnumerable<KnownCa> BySubject(Org.BouncyCastle.Asn1.X509.X509Name issuer) => All.Where(c => c.Certificate.SubjectDN.Equivalent(issuer, true));

    public KnownCa? ByIssuerHashes(string hashAlgorithm, ReadOnlySpan<byte> nameHash, ReadOnlySpan<byte> keyHash)
    {
        foreach (var ca in All)
            if (ca.IsIssuerOf(hashAlgorithm, nameHash, keyHash)) return ca;
        return null;
    }

    private static string Fingerprint(X509Certificate c) => Convert.ToHexString(SHA256.HashData(c.GetEncoded()));
}

/// <summary>Reads our CAs from the CA store and keeps the snapshot for <see cref="OcppOptions.CaListRefresh"/>.</summary>
public sealed class OurCertificateAuthorities(ICertificateAuthorityStore store, OcppOptions options, TimeProvider clock)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly IReadOnlyList<X509Certificate> _extraContract = options.ExtraContractRootsPem.SelectMany(p => CertificateReader.ReadCertificates(System.Text.Encoding.ASCII.GetBytes(p))).ToList();
    private readonly IReadOnlyList<X509Certificate> _extraStation = options.ExtraStationRootsPem.SelectMany(p => CertificateReader.ReadCertificates(System.Text.Encoding.ASCII.GetBytes(p))).ToList();
    private CaSnapshot? _snapshot;
    private DateTimeOffset _readAt;

    public async ValueTask<CaSnapshot> GetAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        if (_snapshot is { } s && now - _readAt < options.CaListRefresh) return s;
        await _refresh.WaitAsync(ct);
        try
        {
            if (_snapshot is { } again && clock.GetUtcNow() - _readAt < options.CaListRefresh) return again;
            var records = await store.ListAsync(ct);
            _snapshot = new CaSnapshot(records.Where(r => r.Status == CaStatus.Active).Select(r => new KnownCa(r)).ToList(), _extraContract, _extraStation);
            _readAt = clock.GetUtcNow();
            return _snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Forgets the snapshot, e.g. after a CA was created.</summary>
    public void Invalidate() => _snapshot = null;
}

/// <summary>The hash algorithms of OCPP's HashAlgorithmEnumType and how to compute them.</summary>
public static class CertificateHashes
{
    public static IReadOnlyList<string> Algorithms { get; } = ["SHA256", "SHA384", "SHA512"];

    public static byte[] Hash(string algorithm, ReadOnlySpan<byte> data) => algorithm switch
    {
        "SHA256" => SHA256.HashData(data),
        "SHA384" => SHA384.HashData(data),
        "SHA512" => SHA512.HashData(data),
        _ => throw new ArgumentException($"Unknown hash algorithm {algorithm}.", nameof(algorithm)),
    };

    public static int Length(string algorithm) => algorithm switch { "SHA256" => 32, "SHA384" => 48, "SHA512" => 64, _ => 0 };

    /// <summary>The CertificateHashData of a certificate issued by <paramref name="issuer"/> (OCPP 2.0.1 CertificateHashDataType).</summary>
    public static (string NameHash, string KeyHash, string Serial) Of(X509Certificate certificate, X509Certificate issuer, string algorithm = "SHA256") =>
        (Convert.ToHexStringLower(Hash(algorithm, issuer.SubjectDN.GetEncoded())),
         Convert.ToHexStringLower(Hash(algorithm, issuer.CertificateStructure.SubjectPublicKeyInfo.PublicKey.GetBytes())),
         Pki.X509.SerialNumbers.ToHex(certificate.SerialNumber));
}
