using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Storage;

namespace PlugAndCharge.Benchmarks.Pki;

/// <summary>
/// Contract certificate issuance through the whole pipeline (reserve, build, lint, sign, verify, record, audit).
/// In memory: `dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*IssuanceInMemory*'`.
/// </summary>
[MemoryDiagnoser]
public class IssuanceInMemoryBenchmarks
{
    private CertificateAuthorityServices _ca = null!;
    private SubjectPublicKeyInfo _key = null!;
    private byte[] _csr = null!;
    private X509Name _subject = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ca = CertificateAuthorityServices.InMemory();
        DevelopmentHierarchy.CreateAsync(_ca.Hierarchy, _ca.CaStore, "iso2", "memory", KeyAlgorithm.EcP256, "bench").GetAwaiter().GetResult();
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _key = SubjectPublicKeyInfo.GetInstance(ec.ExportSubjectPublicKeyInfo());
        var emaid = Emaid.Create("DE", "8AA", "C00000001").Normalized;
        _subject = new X509Name($"CN={emaid},O=Bench,DC=MO");
        _csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={emaid}, O=Bench, DC=MO", ec, HashAlgorithmName.SHA256).CreateSigningRequest();
    }

    [Benchmark(Baseline = true)]
    public Task<IssuedCertificate> FromPublicKey() => _ca.Issuer.IssueAsync(new IssuanceRequest
    {
        ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", PublicKey = _key, Subject = _subject, Actor = "bench",
    });

    [Benchmark]
    public Task<IssuedCertificate> FromCsr() => _ca.Issuer.IssueAsync(new IssuanceRequest
    {
        ProfileId = "iso2/contract", IssuerId = "iso2-mo-subca2", Csr = _csr, Actor = "bench",
    });
}

/// <summary>
/// Issuance persisted in PostgreSQL with 32 concurrent callers. Needs PNC_BENCH_DATABASE (a connection string to a
/// database the benchmark may fill): `scripts/bench-issuance.sh` starts a cluster and runs it.
/// </summary>
public class IssuancePersistedBenchmarks
{
    private const int Callers = 32;
    private const int PerCaller = 64;
    private CertificateAuthorityServices _ca = null!;
    private PostgresPkiStore _store = null!;
    private SubjectPublicKeyInfo _key = null!;
    private X509Name _subject = null!;

    [GlobalSetup]
    public void Setup()
    {
        var cs = Environment.GetEnvironmentVariable("PNC_BENCH_DATABASE") ?? throw new InvalidOperationException("Set PNC_BENCH_DATABASE.");
        var (_, store) = PkiDatabase.OpenAsync(cs).GetAwaiter().GetResult();
        _store = store;
        var keys = new KeyProviderRegistry([new SoftwareKeyProvider(null, null)]);
        _ca = new CertificateAuthorityServices(store, store, store, keys, null, new PkiOptions());
        var suffix = Guid.NewGuid().ToString("N")[..6];
        // A fresh hierarchy per run under unique ids, keys in memory.
        foreach (var n in DevelopmentHierarchy.Layout("iso2").Where(n => n.Id.Contains("mo-")))
        {
            var id = n.Id + "-" + suffix;
            if (n.Parent == null) _ca.Hierarchy.CreateRootAsync(id, n.Profile, n.Subject, $"memory:{id}", KeyAlgorithm.EcP256, "bench").GetAwaiter().GetResult();
            else _ca.Hierarchy.CreateSubCaAsync(id, n.Profile, n.Parent + "-" + suffix, n.Subject, $"memory:{id}", KeyAlgorithm.EcP256, null, "bench").GetAwaiter().GetResult();
        }
        _issuer = "iso2-mo-subca2-" + suffix;
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _key = SubjectPublicKeyInfo.GetInstance(ec.ExportSubjectPublicKeyInfo());
        _subject = new X509Name($"CN={Emaid.Create("DE", "8AA", "C00000001").Normalized},O=Bench,DC=MO");
    }

    private string _issuer = "";

    [GlobalCleanup]
    public void Cleanup() => _store.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = Callers * PerCaller)]
    public Task Issue32Concurrent() => Task.WhenAll(Enumerable.Range(0, Callers).Select(async _ =>
    {
        for (var i = 0; i < PerCaller; i++)
            await _ca.Issuer.IssueAsync(new IssuanceRequest { ProfileId = "iso2/contract", IssuerId = _issuer, PublicKey = _key, Subject = _subject, Actor = "bench" });
    }));
}
