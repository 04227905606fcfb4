using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.Asn1.X509;
using PlugAndCharge.Core.Identifiers;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Issuance;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Pkcs11;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Benchmarks.Keys;

/// <summary>
/// Signatures and certificate issuances per second by key backend (software keys in memory, SoftHSM2 over PKCS#11)
/// with 1 and 8 concurrent callers; each invocation performs <see cref="Operations"/> operations split across the callers,
/// so the reported time is per operation (ops/s = 1 s / Mean).
/// `dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*KeyBackend*' --job short --inProcess`
/// </summary>
[MemoryDiagnoser]
public class KeyBackendBenchmarks
{
    private const int Operations = 64;

    [Params("software", "softhsm")]
    public string Backend { get; set; } = "software";

    [Params(1, 8)]
    public int Concurrency { get; set; }

    private ISigningKey _key = null!;
    private CertificateAuthorityServices _ca = null!;
    private string _issuer = "";
    private SubjectPublicKeyInfo _leafKey = null!;
    private X509Name _subject = null!;
    private readonly byte[] _tbs = new byte[600];

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_tbs);
        var run = Guid.NewGuid().ToString("N")[..8];
        IKeyProvider backend = Backend == "softhsm" ? new Pkcs11KeyProvider(BenchSoftHsm.Options) : new SoftwareKeyProvider(null, null);
        string UriOf(string name) => Backend == "softhsm" ? $"pkcs11:token={BenchSoftHsm.Token};object={name}" : $"memory:{name}";
        var store = new InMemoryPkiStore(TimeProvider.System);
        var keys = new KeyProviderRegistry([backend, new SoftwareKeyProvider(null, null)]);
        _ca = new CertificateAuthorityServices(store, store, store, keys);
        foreach (var n in DevelopmentHierarchy.Layout("iso2").Where(n => n.Id.Contains("-mo-")))
        {
            var id = $"{n.Id}-{run}";
            if (n.Parent == null) _ca.Hierarchy.CreateRootAsync(id, n.Profile, n.Subject, UriOf(id), KeyAlgorithm.EcP256, "bench").GetAwaiter().GetResult();
            else _ca.Hierarchy.CreateSubCaAsync(id, n.Profile, $"{n.Parent}-{run}", n.Subject, UriOf(id), KeyAlgorithm.EcP256, null, "bench").GetAwaiter().GetResult();
        }
        _issuer = $"iso2-mo-subca2-{run}";
        _key = keys.OpenAsync(KeyUri.Parse(UriOf(_issuer))).GetAwaiter().GetResult();
        _leafKey = keys.GenerateAsync(KeyUri.Parse($"memory:leaf-{run}"), KeyAlgorithm.EcP256).GetAwaiter().GetResult().PublicKey;
        _subject = new X509Name($"CN={Emaid.Create("DE", "8AA", "C00000001").Normalized},O=Bench,DC=MO");
    }

    private Task Split(Func<Task> operation) => Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
    {
        for (var i = 0; i < Operations / Concurrency; i++) await operation();
    })));

    [Benchmark(OperationsPerInvoke = Operations)]
    public Task Sign() => Split(async () => await _key.SignAsync(_tbs));

    [Benchmark(OperationsPerInvoke = Operations)]
    public Task Issue() => Split(() => _ca.Issuer.IssueAsync(new IssuanceRequest
    {
        ProfileId = "iso2/contract", IssuerId = _issuer, PublicKey = _leafKey, Subject = _subject, Actor = "bench",
    }));
}
