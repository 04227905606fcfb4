using Dapper;
using Npgsql;
using PlugAndCharge.Pki.Audit;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Storage;

/// <summary>
/// Appends audit entries inside the caller's transaction. A transaction-scoped advisory lock orders appenders across
/// instances, so each entry links to the true predecessor; the lock is released at commit.
/// </summary>
internal static class PostgresAuditWriter
{
    private const long LockKey = 0x504E_435F_4155_44; // "PNC_AUD"

    public static async Task AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<AuditEvent> events, TimeProvider clock)
    {
        await conn.ExecuteAsync("select pg_advisory_xact_lock(@k)", new { k = LockKey }, tx);
        var head = await conn.QuerySingleOrDefaultAsync<(long Seq, byte[] Hash)?>("select seq, hash from audit_log order by seq desc limit 1", transaction: tx);
        var seq = head?.Seq ?? 0;
        var prev = head?.Hash ?? AuditChain.Genesis;
        var at = AuditChain.Normalize(clock.GetUtcNow());
        var rows = new List<object>(events.Count);
        foreach (var e in events)
        {
            seq++;
            var details = AuditChain.SerializeDetails(e.Details);
            var hash = AuditChain.ComputeHash(prev, seq, at, e.Actor, e.Action, e.Subject, details);
            rows.Add(new { seq, at, actor = e.Actor, action = e.Action, subject = e.Subject, details, prev_hash = prev, hash });
            prev = hash;
        }
        await conn.ExecuteAsync("insert into audit_log(seq, at, actor, action, subject, details, prev_hash, hash) values (@seq, @at, @actor, @action, @subject, @details, @prev_hash, @hash)", rows, tx);
    }
}
