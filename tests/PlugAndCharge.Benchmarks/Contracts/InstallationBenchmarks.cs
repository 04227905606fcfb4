using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Storage;
using PlugAndCharge.Storage.Contracts;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Benchmarks.Contracts;

/// <summary>
/// A development world for the installation benchmarks: the iso2 hierarchy, roots in the pool, a CPS signer, and
/// vehicles with a default contract each and a pre-built signed CertificateInstallationReq. RenewBefore is set beyond
/// the certificate lifetime, so every installation issues a new contract certificate (the full path: decode, verify,
/// validate, issue, encrypt, sign, encode, persist).
/// </summary>
internal sealed class InstallationBench
{
    public ContractServices Services { get; }
    public byte[][] Requests { get; }

    private InstallationBench(ContractServices services, byte[][] requests) { Services = services; Requests = requests; }

    public static async Task<InstallationBench> CreateAsync(CertificateAuthorityServices ca, Func<CertificateAuthorityServices, ContractOptions, ContractServices> compose, int vehicles)
    {
        await DevelopmentHierarchy.CreateAsync(ca.Hierarchy, ca.CaStore, "iso2", "memory", KeyAlgorithm.EcP256, "bench");
        var options = new ContractOptions { KeyEncryptionKey = RandomNumberGenerator.GetBytes(32), RenewBefore = TimeSpan.FromDays(100_000) };
        var services = compose(ca, options);
        async Task<X509Certificate> Root(string id, RootType type, string? owner, string[]? wmis)
        {
            var cert = (await ca.Authorities.GetAsync(id)).Certificate;
            await services.Roots.AddAsync(cert.GetEncoded(), type, owner, wmis, "bench");
            return cert;
        }
        var v2g = await Root("iso2-v2g-root", RootType.V2G, null, null);
        await Root("iso2-mo-root", RootType.MO, null, null);
        await Root("iso2-oem-root", RootType.OEM, "oem", ["BNC"]);
        services.Signers.Add(await CpsSigner.IssueAsync(ca, "iso2-cps-subca2", $"memory:cps-{Guid.NewGuid():N}", "CN=CPS Bench,O=Bench,DC=CPS", "bench"));
        var owner = new ContractOwner("emsp", ["DE8AA"]);
        var requests = new byte[vehicles][];
        var run = Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        // Concurrently: a world of tens of thousands of vehicles (one per installation) is built in about a minute.
        await Parallel.ForAsync(0, vehicles, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            using var car = await VehicleSimulator.CreateAsync(ca, "iso2-oem-subca2", $"BNC{run}{i:D8}", [v2g]);
            await services.Vehicles.AddAsync("oem", new ProvisioningCertificateUpload(car.ProvisioningCertificate, car.ProvisioningSubCas[0], car.ProvisioningSubCas[1]), "bench");
            await services.Contracts.BindAsync(owner, new ContractBinding { Pcid = car.Pcid }, "bench");
            requests[i] = car.BuildInstallationRequest();
        });
        var check = await services.Installation.AnswerAsync(IsoStandard.Iso15118_2, requests[0]);
        if (!check.IsOk) throw new InvalidOperationException("Benchmark world is broken: " + check.Detail);
        return new InstallationBench(services, requests);
    }
}

/// <summary>
/// One ISO 15118-2 installation, end to end, in memory:
/// `dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*InstallationInMemory*' --job short --inProcess`.
/// </summary>
[MemoryDiagnoser]
public class InstallationInMemoryBenchmarks
{
    private InstallationBench _bench = null!;
    private int _next;

    [GlobalSetup]
    public void Setup() => _bench = InstallationBench.CreateAsync(CertificateAuthorityServices.InMemory(), (ca, o) => ContractServices.InMemory(ca, o), 64).GetAwaiter().GetResult();

    [Benchmark]
    public async Task<InstallationOutcome> InstallIssuingANewCertificate()
    {
        var outcome = await _bench.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, _bench.Requests[_next++ % _bench.Requests.Length]);
        return outcome.IsOk ? outcome : throw new InvalidOperationException(outcome.Detail);
    }
}

/// <summary>
/// Installations persisted in PostgreSQL (contract row, certificate row, audit entries, outbox) with 32 concurrent
/// callers; PNC_BENCH_DATABASE names a database the benchmark may fill:
/// `PNC_BENCH_DATABASE=... dotnet run -c Release --project tests/PlugAndCharge.Benchmarks -- --filter '*InstallationPersisted*' --job short --inProcess`.
/// </summary>
public class InstallationPersistedBenchmarks
{
    private const int Callers = 32;
    private const int PerCaller = 32;
    private InstallationBench _bench = null!;
    private PostgresContractStores _store = null!;
    private PostgresPkiStore _pki = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var cs = Environment.GetEnvironmentVariable("PNC_BENCH_DATABASE") ?? throw new InvalidOperationException("Set PNC_BENCH_DATABASE.");
        var (_, pki, store) = ContractDatabase.OpenAsync(cs).GetAwaiter().GetResult();
        (_pki, _store) = (pki, store);
        // A fresh database per run: the development hierarchy uses fixed CA ids.
        var ca = new CertificateAuthorityServices(pki, pki, pki, new KeyProviderRegistry([new SoftwareKeyProvider(null, null)]), null, new PkiOptions());
        _bench = InstallationBench.CreateAsync(ca, (c, o) => new ContractServices(c, store.Roots, store.Vehicles, store.Contracts, store.Webhooks, o), 256).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _pki.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = Callers * PerCaller)]
    public Task Install32Concurrent() => Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
    {
        for (var i = 0; i < PerCaller; i++)
        {
            var outcome = await _bench.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, _bench.Requests[Interlocked.Increment(ref _next) % _bench.Requests.Length]);
            if (!outcome.IsOk) throw new InvalidOperationException(outcome.Detail);
        }
    })));
}

/// <summary>
/// The installation world of the load tools: persisted in the database PNC_BENCH_DATABASE names (a fresh one per run:
/// the development hierarchy uses fixed CA ids), else in memory. Disposing closes the stores.
/// </summary>
internal sealed class InstallationWorld : IAsyncDisposable
{
    public InstallationBench Bench { get; }
    public bool Persisted { get; }
    private readonly Func<ValueTask> _close;

    private InstallationWorld(InstallationBench bench, bool persisted, Func<ValueTask> close) { Bench = bench; Persisted = persisted; _close = close; }

    /// <param name="vehicles">
    /// Vehicles in the world, used round robin. With few, each vehicle's provisioning certificate is parsed, its keys
    /// imported and its chain link verified once and then cached; with one per installation nothing vehicle-specific
    /// is cached, as for real cars that install a contract once.
    /// </param>
    /// <param name="database">The database to persist in; PNC_BENCH_DATABASE unless given.</param>
    public static async Task<InstallationWorld> OpenAsync(int vehicles = 256, string? database = null)
    {
        if ((database ?? Environment.GetEnvironmentVariable("PNC_BENCH_DATABASE")) is not { Length: > 0 } cs)
            return new InstallationWorld(await InstallationBench.CreateAsync(CertificateAuthorityServices.InMemory(), (ca, o) => ContractServices.InMemory(ca, o), 64), false, () => ValueTask.CompletedTask);
        var (_, pki, store) = await ContractDatabase.OpenAsync(cs);
        var ca = new CertificateAuthorityServices(pki, pki, pki, new KeyProviderRegistry([new SoftwareKeyProvider(null, null)]), null, new PkiOptions());
        var bench = await InstallationBench.CreateAsync(ca, (c, o) => new ContractServices(c, store.Roots, store.Vehicles, store.Contracts, store.Webhooks, o), vehicles);
        // A settled database, as when the vehicles were uploaded long before they install: without this, autovacuum
        // processes the freshly filled tables during the measurement.
        await using (var conn = new Npgsql.NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var vacuum = new Npgsql.NpgsqlCommand("vacuum analyze", conn) { CommandTimeout = 600 };
            await vacuum.ExecuteNonQueryAsync();
        }
        return new InstallationWorld(bench, true, async () => { await store.DisposeAsync(); await pki.DisposeAsync(); });
    }

    public async Task InstallAsync(int i)
    {
        var outcome = await Bench.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, Bench.Requests[i % Bench.Requests.Length]);
        if (!outcome.IsOk) throw new InvalidOperationException(outcome.Detail);
    }

    public ValueTask DisposeAsync() => _close();
}

/// <summary>
/// Installations in a loop, for a profiler: in memory, or persisted with PNC_BENCH_DATABASE set (32 concurrent callers);
/// prints installations per second and this process's CPU per installation every 1,000.
/// </summary>
public static class InstallationLoop
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 20_000;
        await using var world = await InstallationWorld.OpenAsync();
        if (!world.Persisted)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 1; i <= count; i++)
            {
                await world.InstallAsync(i);
                if (i % 1000 == 0)
                {
                    Console.WriteLine($"{i}: {watch.Elapsed.TotalMicroseconds / 1000:F0} us/installation");
                    watch.Restart();
                }
            }
            return 0;
        }
        var next = 0;
        var me = System.Diagnostics.Process.GetCurrentProcess();
        for (var round = 0; round < count / 1000; round++)
        {
            var cpu = me.TotalProcessorTime;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
            {
                for (var k = 0; k < 32; k++) await world.InstallAsync(Interlocked.Increment(ref next));
            })));
            me.Refresh();
            Console.WriteLine($"{1024 / watch.Elapsed.TotalSeconds:F0} installations/s, this process {(me.TotalProcessorTime - cpu).TotalMicroseconds / 1024:F0} us CPU each");
        }
        return 0;
    }
}
