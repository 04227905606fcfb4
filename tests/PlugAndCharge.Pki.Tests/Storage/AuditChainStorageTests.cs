using Dapper;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Stores;
using PlugAndCharge.Storage;
using PlugAndCharge.Tests;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Storage;

/// <summary>
/// The audit chain linked by PostgreSQL (audit_append, migration 0013): the same hash rule as the application used
/// before, so old chains continue and verify; one chain across instances; nothing appended by a transaction that fails.
/// </summary>
public sealed class AuditChainStorageTests
{
    private static readonly Dictionary<string, string> Unicode = new() { ["note"] = "Zoë's \"contract\" – ÄÖÜ ✓", ["emaid"] = "DE-ABC-C12345678-9" };

    [Fact]
    public async Task A_chain_the_application_linked_before_migration_0013_continues_in_SQL_and_verifies()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var (db, store) = await PkiDatabase.OpenAsync(database.ConnectionString);
        await using (db)
        await using (store)
        {
            // Entries as the writer before 0013 made them: linked by AuditChain in C#, inserted as values.
            var prev = AuditChain.Genesis;
            var at = AuditChain.Normalize(DateTimeOffset.UtcNow.AddMinutes(-1));
            await using (var c = await db.OpenConnectionAsync())
                for (var seq = 1L; seq <= 3; seq++)
                {
                    var details = AuditChain.SerializeDetails(seq == 2 ? Unicode : null);
                    var hash = AuditChain.ComputeHash(prev, seq, at, "Jürgen", "legacy.entry", $"subject/{seq}", details);
                    await c.ExecuteAsync("insert into audit_log(seq, at, actor, action, subject, details, prev_hash, hash) values (@seq, @at, 'Jürgen', 'legacy.entry', @subject, @details, @prev, @hash)",
                        new { seq, at = at.UtcDateTime, subject = $"subject/{seq}", details, prev, hash });
                    prev = hash;
                }

            await store.AppendAsync(new AuditEvent("Zoë", "sql.entry", "subject/4", Unicode));
            await store.AppendAsync(new AuditEvent("ops", "sql.entry", "subject/5"));

            var entries = new List<AuditEntry>();
            await foreach (var e in store.ReadAllAsync()) entries.Add(e);
            Assert.Equal([1L, 2, 3, 4, 5], entries.Select(e => e.Sequence));
            // PostgreSQL's link is exactly AuditChain's rule (what `pnc audit verify` recomputes), with non-ASCII text too.
            var fourth = entries[3];
            Assert.Equal(AuditChain.ComputeHash(entries[2].Hash, 4, fourth.At, "Zoë", "sql.entry", "subject/4", AuditChain.SerializeDetails(Unicode)), fourth.Hash);
            var v = await AuditChain.VerifyAsync(store.ReadAllAsync());
            Assert.True(v.Intact, v.Detail);
            Assert.Equal(5, v.Entries);
        }
    }

    [Fact]
    public async Task Two_instances_appending_at_once_keep_one_linear_chain_and_a_failed_transaction_appends_nothing()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var (db1, one) = await PkiDatabase.OpenAsync(database.ConnectionString);
        var (db2, two) = await PkiDatabase.OpenAsync(database.ConnectionString);
        await using (db1)
        await using (db2)
        await using (one)
        await using (two)
        {
            await Task.WhenAll(Enumerable.Range(0, 200).Select(i => (i % 2 == 0 ? one : two).AppendAsync(new AuditEvent($"instance-{i % 2}", "concurrent", $"n/{i}"))));
            var v = await AuditChain.VerifyAsync(one.ReadAllAsync());
            Assert.True(v.Intact, v.Detail);
            Assert.Equal(200, v.Entries);

            // A change refused inside its transaction (the CA exists already) rolls back with its audit entry unwritten,
            // and the connection it used serves the next audited change.
            var ca = new CaRecord { Id = "dup", ProfileId = "p", KeyUri = "memory:x", CertificateDer = [1], Status = CaStatus.Active };
            await one.CreateAsync(ca, null, new AuditEvent("t", "ca.create", "ca/dup"));
            await Assert.ThrowsAsync<PkiException>(() => one.CreateAsync(ca, null, new AuditEvent("t", "ca.create", "ca/dup")));
            await one.SetOcspSignerAsync("dup", "01", "memory:y", new AuditEvent("t", "ca.ocsp-signer", "ca/dup"));
            v = await AuditChain.VerifyAsync(two.ReadAllAsync());
            Assert.True(v.Intact, v.Detail);
            Assert.Equal(202, v.Entries);
        }
    }
}
