using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Storage;

namespace PlugAndCharge.Benchmarks.Audit;

/// <summary>
/// Audited writes per second from several instances on one database (closed loop), the workload the audit chain's lock
/// serialises: `audit-rate SECONDS [INSTANCES] [WORKERS_PER_INSTANCE]` against PNC_BENCH_DATABASE (a server; a fresh
/// database is created and dropped). Three paths: a standalone audit entry (IAuditLog.AppendAsync), a change with its
/// entry in one transaction (SetOcspSignerAsync), and issued certificates recorded by group commit (RecordIssuedAsync).
/// The chain is verified at the end.
/// </summary>
public static class AuditRate
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 ? int.Parse(args[0]) : 10;
        var instances = args.Length > 1 ? int.Parse(args[1]) : 2;
        var workers = args.Length > 2 ? int.Parse(args[2]) : 16;
        var server = Environment.GetEnvironmentVariable("PNC_BENCH_DATABASE") ?? throw new InvalidOperationException("Set PNC_BENCH_DATABASE.");
        await using var fresh = await PlugAndCharge.Tests.PostgresDatabase.CreateAsync(server, "pnc_audit_bench_", maxPoolSize: null);
        var cs = fresh.ConnectionString;
        var opened = new List<(NpgsqlDataSource Db, PostgresPkiStore Store)>();
        for (var i = 0; i < instances; i++) opened.Add(await PkiDatabase.OpenAsync(cs));
        var stores = opened.Select(o => o.Store).ToList();
        for (var w = 0; w < instances * workers; w++)
            await stores[0].CreateAsync(new CaRecord { Id = $"bench-{w}", ProfileId = "bench", KeyUri = "memory:bench", CertificateDer = RandomNumberGenerator.GetBytes(32) }, null, new AuditEvent("bench", "ca.create", $"ca/bench-{w}"));

        await MeasureAsync("standalone entry (AppendAsync)", seconds, stores, workers, (s, w, n) => s.AppendAsync(new AuditEvent("bench", "bench.entry", $"w/{w}/{n}")));
        await MeasureAsync("change + entry in one transaction (SetOcspSignerAsync)", seconds, stores, workers,
            (s, w, n) => s.SetOcspSignerAsync($"bench-{w}", n.ToString("x"), "memory:bench", new AuditEvent("bench", "ca.ocsp-signer", $"ca/bench-{w}")));
        await MeasureAsync("issued certificate, group commit (RecordIssuedAsync)", seconds, stores, workers, (s, w, n) => s.RecordIssuedAsync(new CertificateRecord
        {
            IssuerId = $"bench-{w}", Serial = $"{n:x}", ProfileId = "bench", Subject = "CN=bench", NotBefore = DateTimeOffset.UtcNow, NotAfter = DateTimeOffset.UtcNow.AddDays(1),
            Der = RandomNumberGenerator.GetBytes(300), Sha256 = RandomNumberGenerator.GetBytes(32), Status = CertificateStatus.Valid,
        }, new AuditEvent("bench", "certificate.issue", $"bench-{w}/{n:x}")));

        var v = await AuditChain.VerifyAsync(stores[0].ReadAllAsync());
        Console.WriteLine($"audit verify: {v.Detail}");
        foreach (var (db, store) in opened) { await store.DisposeAsync(); await db.DisposeAsync(); }
        return v.Intact ? 0 : 1;
    }

    private static async Task MeasureAsync(string label, int seconds, IReadOnlyList<PostgresPkiStore> stores, int workers, Func<PostgresPkiStore, int, long, Task> op)
    {
        var until = Stopwatch.StartNew();
        long done = 0, failed = 0;
        var latencies = new List<double>[stores.Count * workers];
        await Task.WhenAll(Enumerable.Range(0, stores.Count * workers).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = [];
            for (long n = (long)w << 32; until.Elapsed < TimeSpan.FromSeconds(seconds); n++)
            {
                var t = Stopwatch.GetTimestamp();
                try { await op(stores[w % stores.Count], w, n); Interlocked.Increment(ref done); mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds); }
                catch (Exception) { Interlocked.Increment(ref failed); }
            }
        })));
        var all = latencies.SelectMany(l => l).Order().ToList();
        double P(double q) => all.Count == 0 ? 0 : all[(int)Math.Min(all.Count - 1, q * all.Count)];
        Console.WriteLine($"{label}: {done / until.Elapsed.TotalSeconds:F0}/s over {stores.Count} instances x {workers} workers, p50 {P(0.5):F1} ms, p99 {P(0.99):F1} ms, failed {failed}");
    }
}
